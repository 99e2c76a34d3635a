// tvk.InputError (a ValueError) for tvk::InputError and the environment errors the CLI reports
// as bad input; std::invalid_argument and std::domain_error become ValueError (nanobind's
// default), anything else RuntimeError. No exception crosses into the interpreter unhandled.
#include <filesystem>
#include <string>

#include "bindings.h"
#include "core/error.h"
#include "core/kernels/kernel_set.h"

namespace tvk::python {

Eigen::MatrixXd to_matrix(const In<double>& a) {
  const std::size_t rows = a.shape(0), cols = a.ndim() > 1 ? a.shape(1) : 1;
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  const double* p = a.data();
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t c = 0; c < cols; ++c)
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) = p[i * cols + c];
  }
  return m;
}

void bind_errors(nb::module_& m) {
  static nb::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const std::filesystem::filesystem_error& error) {
      // As the CLI: "PATH: cannot create directories: Not a directory".
      std::string what = error.what();
      const std::string prefix = "filesystem error: ";
      if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
      if (const auto bracket = what.find(" ["); bracket != std::string::npos) what.erase(bracket);
      const std::string path = error.path1().string();
      PyErr_SetString(input_error.ptr(),
                      ((path.empty() ? std::string("an empty path") : path) + ": " + what).c_str());
    }
  });
  m.def(
      "kernel_set",
      [] { return std::string(kernels::kernel_set_name(kernels::kernel_set_from_environment())); },
      "The kernel set in use (generic, avx2 or avx512; TVK_KERNELS forces one), as `tvk "
      "--version` prints it.");
}

}  // namespace tvk::python
