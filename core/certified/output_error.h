#pragma once
//! \file Output-level error of Top-k truncation (THEORY §3): the exact error of the attention
//! output and the bounds O1–O5 on it.

#include <cstddef>
#include "core/numerics/eigen.h"

#include "core/rows/tail_profile.h"

namespace tvk {

//! ‖Attn − Attn_k‖₂ and its bounds for one row and one k.
struct OutputError {
  double tau = 0.0;          //!< tau_k
  double exact = 0.0;        //!< ‖Σ P_i v_i − Σ P̂_i v_i‖₂ computed from the definitions
  double factorised = 0.0;   //!< O1: tau_k ‖μ_T − μ_H‖₂ (equals exact)
  double diameter = 0.0;     //!< O2: tau_k max_{i∈H, j∈T} ‖v_i − v_j‖₂
  double head_radius = 0.0;  //!< O3: tau_k max_{j∈T} ‖v_j − μ_H‖₂
  double variance = 0.0;     //!< O4: sqrt(tau_k/(1−tau_k) Var_P(V))
  double generic = 0.0;      //!< O5: 2 tau_k max_i ‖v_i‖₂
};

//! Output error of keeping the top k keys. `values` has one row per unmasked key, in row
//! order (the positions of the profile), and d_v columns.
OutputError output_error(const TailProfile& profile, const Eigen::MatrixXd& values, std::size_t k);

}  // namespace tvk
