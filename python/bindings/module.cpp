// tvk._tvk: the compiled half of the tvk package (python/tvk/__init__.py wraps it; use that).
#include "bindings.h"

NB_MODULE(_tvk, m) {
  m.doc() = "tvk's C++ core, as the tvk package calls it (use the tvk package, not this module)";
  tvk::python::bind_errors(m);
  tvk::python::bind_rows(m);
  tvk::python::bind_store(m);
  tvk::python::bind_search(m);
  tvk::python::bind_decode(m);
}
