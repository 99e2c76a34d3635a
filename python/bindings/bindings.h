#pragma once
//! \file Shared helpers of the nanobind bindings (python/bindings/, one file per area). The
//! bindings take arrays as python/tvk/__init__.py hands them over (C-contiguous, the right
//! dtype: the Python layer converts, copying only when needed) and return numpy arrays that own
//! their buffers. Every binding releases the GIL while tvk works.

// Eigen first: core/numerics/eigen.h must bring in the intrinsic headers before anything else does.
#include "core/numerics/eigen.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tvk::python {

namespace nb = nanobind;

//! A read-only C-contiguous CPU array of T with any number of dimensions.
template <class T>
using In = nb::ndarray<const T, nb::c_contig, nb::device::cpu>;

//! A numpy array owning `values` (moved), of the given shape.
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values,
                                   std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape.size(), shape.begin(), owner);
}

//! The same with a shape given as a vector.
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, const std::vector<std::size_t>& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape.size(), shape.data(), owner);
}

//! Throws ValueError "<name>: expected a D-dimensional array, got shape (...)" unless `a` has
//! `dims` dimensions.
template <class A>
void require_dims(const A& a, std::size_t dims, const char* name) {
  if (a.ndim() == dims) return;
  std::string shape = "(";
  for (std::size_t i = 0; i < a.ndim(); ++i)
    shape += (i ? ", " : "") + std::to_string(a.shape(i));
  shape += a.ndim() == 1 ? ",)" : ")";
  throw nb::value_error(
      (std::string(name) + ": expected a " + std::to_string(dims) + "-D array, got shape " + shape)
          .c_str());
}

//! Row-major n × d array as an Eigen matrix (a copy: Eigen's default is column-major).
Eigen::MatrixXd to_matrix(const In<double>& a);

void bind_errors(nb::module_& m);
void bind_rows(nb::module_& m);
void bind_store(nb::module_& m);
void bind_search(nb::module_& m);
void bind_decode(nb::module_& m);

}  // namespace tvk::python
