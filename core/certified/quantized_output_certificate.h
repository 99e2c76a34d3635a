#pragma once
//! \file The output certificate of a selection whose unscored keys have per-key summaries only
//! (the quantized search, THEORY §8), from int8 value codes (project's own). With T = K^c,
//!   ‖Attn − Attn_K‖₂ = ‖Σ_{j∈T} P_j (v_j − μ_K)‖₂ <= Σ_{j∈T} P̄_j D_j,
//! where P̄_j = e^{U_j} / Σ_K e^{s} >= P_j (U_j >= s_j the key's logit upper bound; the kept mass
//! is a lower bound on the row's mass) and D_j = ‖ṽ_j − μ_K‖₂ + ρ_j >= ‖v_j − μ_K‖₂ (ṽ_j the
//! dequantized value, ρ_j >= ‖v_j − ṽ_j‖₂ from its group radii). The certificate is the smaller
//! of that weighted sum and τ̄ · max_{j∈T} D_j (τ̄ the search's certified tail bound). It reads the
//! kept values exactly and one code per tail value: no unscored value.

#include <span>

#include "core/certified/quantized_keys.h"
#include "core/certified/search.h"
#include "core/numerics/eigen.h"

namespace tvk {

//! The certificate for `selection` over a row of n keys: `values` (n × dv; only kept rows are
//! read), `value_codes` (the values' summaries, size >= n), `upper` (n logit upper bounds,
//! >= the canonical logits; only tail entries are read). Rounding is covered (outward).
//! Throws std::invalid_argument on mismatched sizes or a selection that keeps no key.
double quantized_output_bound(const SearchResult& selection, const Eigen::MatrixXd& values,
                              const QuantizedKeys& value_codes, std::span<const double> upper);

}  // namespace tvk
