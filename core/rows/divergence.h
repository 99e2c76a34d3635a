#pragma once
//! \file Distribution-level identities of Top-k truncation (THEORY §1): TV, both KL
//! directions, and the generic Pinsker / Bretagnolle–Huber inequalities for comparison.
//! The *_direct functions compute from the definitions (for checks); the others use the
//! identities and are what analyses report.

#include <cstddef>

#include "core/rows/tail_profile.h"

namespace tvk {

//! TV(P, P̂_k) = ½ Σ_i |P_i − P̂_i| computed term by term from the definition (I1 check).
double tv_half_l1_direct(const TailProfile& profile, std::size_t k);

//! KL(P̂_k ‖ P) from the identity (I2): −log1p(−tau_k).
double kl_truncated_to_full(double tau);
//! KL(P̂_k ‖ P) = Σ_{H_k} P̂_i ln(P̂_i / P_i) computed term by term (I2 check).
double kl_truncated_to_full_direct(const TailProfile& profile, std::size_t k);
//! KL(P ‖ P̂_k) computed from the definition: +inf as soon as a tail key has P_i > 0 (I3).
double kl_full_to_truncated_direct(const TailProfile& profile, std::size_t k);

//! TV recovered from KL(P̂‖P): 1 − exp(−KL) (I2 rearranged).
double tv_from_kl(double kl);
//! Pinsker's inequality TV <= sqrt(KL/2) (generic, for comparison).
double pinsker_bound(double kl);
//! Bretagnolle–Huber's inequality TV <= sqrt(1 − exp(−KL)) (generic, for comparison).
double bretagnolle_huber_bound(double kl);

}  // namespace tvk
