#pragma once
//! \file Standard normal draws for a whole row at once: Marsaglia & Tsang's ziggurat with
//! Boost.Random's 128-layer tables, over four interleaved xoshiro256++ lanes, with the fast
//! path (98.8% of draws: one word, one table lookup, one multiply) vectorised. Every platform
//! and vector width gives the same bits.
//!
//! Draw p of a row takes the (p div 4)-th word of lane p mod 4 (the row is processed in chunks
//! of 512 draws, which does not change this): layer i = bits 1–7, sign = bit 0, x = u·X[i]
//! with u ∈ [0, 1) from the 52 high bits; x is the draw if x < X[i+1]. Otherwise the rest of the
//! ziggurat (tail beyond X[1] for i = 0, wedge test, fresh candidates) runs on a fifth, scalar
//! stream, taken by the rejected draws in increasing position. This is the exact ziggurat: only
//! where the extra uniforms come from differs.

#include <cstdint>
#include <span>

#include "core/random/stream.h"

namespace tvk {

//! Fills `out` with i.i.d. N(0, 1) draws. The four lanes are seeded from four draws of
//! `stream` and the scalar stream from a fifth, so `stream` advances by exactly 5 and the
//! values are a pure function of `stream`'s state and out.size().
void fill_standard_normals(RandomStream& stream, std::span<double> out);

//! One N(0, 1) draw taken one at a time: the ziggurat on the next word of `stream`, finished
//! from `stream` if the fast test fails (tvk's own exp, so the same bits on every machine;
//! Boost's normal_distribution calls libm's exp).
double standard_normal(RandomStream& stream);

//! The draw a word gives, finishing a rejected candidate from `extra` exactly as
//! fill_standard_normals does (for tests).
double standard_normal_from_word(std::uint64_t word, RandomStream& extra);

//! The ziggurat's wedge test of layer 1..127 for a candidate x between X[layer+1] and
//! X[layer] and a uniform y01 ∈ [0, 1) (for tests: it must equal the plain exp test).
bool ziggurat_wedge_accepts(std::uint64_t layer, double x, double y01);

}  // namespace tvk
