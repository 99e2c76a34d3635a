#pragma once
//! \file Reproducible random streams: a work item's stream is a pure function of
//! (seed, point index, row index, purpose), never of the thread that runs it.

#include <cstdint>
#include <initializer_list>
#include <limits>

namespace tvk {

//! SplitMix64 step (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

//! xoshiro256++ 1.0 (Blackman & Vigna). Satisfies UniformRandomBitGenerator, so Boost.Random
//! distributions (identical on every platform, unlike std:: ones) can draw from it.
class Xoshiro256pp {
 public:
  using result_type = std::uint64_t;

  //! Seeds the four state words from SplitMix64(seed), as the authors recommend.
  explicit constexpr Xoshiro256pp(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : state_)
      word = splitmix64(sm);
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() {
    const std::uint64_t result = rotl(state_[0] + state_[3], 23) + state_[0];
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  //! Uniform double in [0, 1) with 53 random bits.
  constexpr double uniform01() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4]{};
};

using RandomStream = Xoshiro256pp;

//! What a stream is used for: each purpose gets its own sub-stream, so extra draws in one
//! component never shift another's.
enum class StreamPurpose : std::uint64_t {
  kLogits = 1,  //!< score-model samples of one row
  kKeys = 2,    //!< synthetic key vectors
  kQuery = 3,   //!< synthetic query vectors
  kValues = 4,  //!< synthetic value vectors
  kAux = 5,     //!< anything else a model needs (mixture labels, sink positions)
};

//! Hashes (seed, point, row, purpose) into one 64-bit stream seed. Every field passes through
//! a full SplitMix64 round, so neighbouring ids give unrelated streams.
constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t point, std::uint64_t row,
                                    StreamPurpose purpose) {
  std::uint64_t h = seed;
  std::uint64_t key = splitmix64(h);
  for (std::uint64_t field : {point, row, static_cast<std::uint64_t>(purpose)}) {
    std::uint64_t s = key ^ field;
    key = splitmix64(s);
  }
  return key;
}

//! The stream of one work item.
constexpr RandomStream make_stream(std::uint64_t seed, std::uint64_t point, std::uint64_t row,
                                   StreamPurpose purpose) {
  return RandomStream(stream_seed(seed, point, row, purpose));
}

}  // namespace tvk
