#pragma once
//! \file tvk's own exp, log, log1p and expm1, in plain IEEE double arithmetic and integer bit
//! manipulation only, so that every x86-64 CPU, every SIMD width and every compiler target
//! gives the same bits. glibc's libm picks FMA or non-FMA code paths at run time (ifunc) and
//! its results may then differ in the last bit; libmvec differs again. The build disables FMA
//! contraction (-ffp-contract=off), so each expression is evaluated exactly as written.
//!
//! log, log1p and expm1 are those of fdlibm (Sun Microsystems; "Permission to use, copy,
//! modify, and distribute this software is freely granted, provided that this notice is
//! preserved"): e_log.c, s_log1p.c, s_expm1.c (log1p and expm1 as revised in FreeBSD's msun).
//! exp is table-driven (Tang's method, with the table layout of glibc's exp: 2^(j/256) as bits
//! and a relative tail, a degree-4 polynomial, no division), branch-free, one template shared
//! by the scalar exp and the lane-wise exp_lanes, so that they cannot drift apart; its table
//! and coefficients were computed for tvk (mpmath) and are checked by the tests.
//!
//! Errors measured against glibc's long double functions by tests/core/elementary_test.cpp, as
//! |result − exact| in units of the spacing of the doubles at the exact value (2^-1074 for
//! subnormal results); every result is one of the two doubles around the exact value:
//!   exp    max 0.77 ulp (0.58 for normal results), 1.0% not correctly rounded, 7.0 million
//!          inputs over [-745.13, 709.78]; the worst are subnormal results, rounded to 53 bits
//!          and then to the subnormal grid
//!   log    max 0.87 ulp, 1.2% not correctly rounded, 2.8 million inputs (any positive double)
//!   log1p  max 0.81 ulp, 1.8% not correctly rounded, 2.6 million inputs over (-1, 2^1024)
//!   expm1  max 0.79 ulp, 3.7% not correctly rounded, 2.5 million inputs over [-745, 709.78]
//!
//! Every function here is always_inline: the kernels include this header in translation units
//! compiled for different instruction sets, and an out-of-line copy (one COMDAT symbol for all
//! of them) could carry AVX-512 code into the baseline kernels.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// Vectors wider than the target's registers are passed differently with AVX/AVX-512 and
// without: GCC and Clang warn (-Wpsabi) at such functions and calls here. Everything here is
// always inlined, so no vector crosses a real call and the ABI does not matter.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tvk::elementary {

namespace detail {

//! A GCC/Clang vector-extension type of doubles: double __attribute__((vector_size(N))).
template <class V>
concept DoubleLanes = !std::is_class_v<V> && !std::is_arithmetic_v<V> && !std::is_pointer_v<V> &&
                      sizeof(V) % sizeof(double) == 0 && requires(V v) {
  { v[0] } -> std::same_as<double&>;
};

//! The unsigned 64-bit integer type with the layout of T (double or a vector of doubles).
template <class T>
struct BitsOf {
  typedef std::uint64_t type __attribute__((vector_size(sizeof(T))));
};
template <>
struct BitsOf<double> {
  using type = std::uint64_t;
};
template <class T>
using Bits = typename BitsOf<T>::type;

//! The width of the target's widest vector registers, in bytes.
#if defined(__AVX512F__)
inline constexpr std::size_t kVectorRegisterBytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t kVectorRegisterBytes = 32;
#else
inline constexpr std::size_t kVectorRegisterBytes = 16;
#endif

//! m ? a : b, lane-wise for vectors (m from a comparison: all ones or zero per lane). GCC
//! lowers ?: on a vector wider than the target's registers (4 doubles without AVX, 8 without
//! AVX-512) element by element, with branches; there the select is written with bit operations.
template <class T, class M>
[[gnu::always_inline]] inline T select(const M& m, const T& a, const T& b) {
  if constexpr (sizeof(T) > kVectorRegisterBytes) {
    using U = Bits<T>;
    const U mask = __builtin_bit_cast(U, m);
    return __builtin_bit_cast(
        T, (mask & __builtin_bit_cast(U, a)) | (~mask & __builtin_bit_cast(U, b)));
  } else {
    return m ? a : b;
  }
}

//! 2^(j/256), j = 0…255, for exp: H_j (1 + tail_j) within 2^-106 relative, H_j = 2^(j/256)
//! rounded to double, tail_j = (2^(j/256) − H_j)/H_j rounded. `bits` is the bit pattern of H_j
//! less j·2^44, so that adding k·2^44 for an integer k = 256 e + j gives H_j·2^e directly (as in
//! glibc's exp, which has the same layout with 128 entries). Computed with mpmath at 300 bits;
//! the tests check them against exp2l.
struct ExpTableEntry {
  std::uint64_t bits;
  double tail;
};
// clang-format off
alignas(64) inline constexpr ExpTableEntry kExpTable[256] = {
    {0x3ff0000000000000, 0x0p+0}, {0x3feffb1afa5abcbf, -0x1.4e82fc61851acp-55},
    {0x3feff63da9fb3335, 0x1.b3b4f1a88bf6ep-54}, {0x3feff168143b0281, -0x1.2985dd8521d32p-55},
    {0x3fefec9a3e778061, -0x1.160139cd8dc5dp-56}, {0x3fefe7d42e11bbcc, 0x1.51e617061bfbdp-57},
    {0x3fefe315e86e7f85, -0x1.05e7a108766d1p-54}, {0x3fefde5f72f654b1, 0x1.45fad437fa426p-55},
    {0x3fefd9b0d3158574, 0x1.cd2523567f613p-55}, {0x3fefd50a0e3c1f89, -0x1.54529642b232fp-54},
    {0x3fefd06b29ddf6de, -0x1.bce8023f98efap-55}, {0x3fefcbd42b72a836, 0x1.293708ef5c32ep-55},
    {0x3fefc74518759bc8, 0x1.0f74e61e6c861p-57}, {0x3fefc2bdf66607e0, -0x1.5b9280905b2a4p-54},
    {0x3fefbe3ecac6f383, 0x1.0a3e45b33d399p-54}, {0x3fefb9c79b1f3919, 0x1.4f31f32c4b7e7p-55},
    {0x3fefb5586cf9890f, 0x1.79aa65d837b6dp-54}, {0x3fefb0f145e46c85, 0x1.407fb30d06420p-54},
    {0x3fefac922b7247f7, 0x1.eb51a92fdeffcp-55}, {0x3fefa83b23395dec, -0x1.a5d04b3b9911bp-54},
    {0x3fefa3ec32d3d1a2, 0x1.ebe3d702f9cd1p-60}, {0x3fef9fa55fdfa9c5, -0x1.37a01f0739546p-54},
    {0x3fef9b66affed31b, -0x1.a033489906e0bp-57}, {0x3fef973028d7233e, 0x1.b8268b04ef0a5p-55},
    {0x3fef9301d0125b51, -0x1.556522a2fbd0ep-54}, {0x3fef8edbab5e2ab6, -0x1.ac46e44a2ebccp-54},
    {0x3fef8abdc06c31cc, -0x1.080ef8c4eea55p-58}, {0x3fef86a814f204ab, -0x1.5704e90c9f860p-57},
    {0x3fef829aaea92de0, -0x1.1c923b9d5f416p-54}, {0x3fef7e95934f312e, -0x1.97cea57e46280p-55},
    {0x3fef7a98c8a58e51, 0x1.0d3e3e95c55afp-55}, {0x3fef76a45471c3c2, 0x1.6f01429e2b9d2p-58},
    {0x3fef72b83c7d517b, -0x1.01b15eaa59348p-55}, {0x3fef6ed48695bbc0, 0x1.e653b2459034bp-57},
    {0x3fef6af9388c8dea, -0x1.f1ff055de323dp-55}, {0x3fef672658375d2f, 0x1.2cc7ea345b7dcp-54},
    {0x3fef635beb6fcb75, 0x1.b898c3f1353bfp-55}, {0x3fef5f99f8138a1c, 0x1.57bfb2876ea9ep-54},
    {0x3fef5be084045cd4, -0x1.6d99c7611eb26p-54}, {0x3fef582f95281c6b, 0x1.cdc1873af2155p-55},
    {0x3fef54873168b9aa, 0x1.aecf73e3a2f60p-54}, {0x3fef50e75eb44027, -0x1.493684653a131p-54},
    {0x3fef4d5022fcd91d, -0x1.fe782cb86389dp-55}, {0x3fef49c18438ce4d, -0x1.8e2899077520ap-54},
    {0x3fef463b88628cd6, 0x1.a6f4144a6c38dp-55}, {0x3fef42be3578a819, 0x1.120fcd4f59273p-54},
    {0x3fef3f49917ddc96, 0x1.07a05b0e4047dp-55}, {0x3fef3bdda27912d1, 0x1.9b788c188c9b8p-55},
    {0x3fef387a6e756238, 0x1.68efde3a8a894p-54}, {0x3fef351ffb82140a, 0x1.77afbca90ef84p-55},
    {0x3fef31ce4fb2a63f, 0x1.75e18f274487dp-55}, {0x3fef2e85711ece75, 0x1.1512f082876eep-54},
    {0x3fef2b4565e27cdd, 0x1.0472b981fe7f2p-55}, {0x3fef280e341ddf29, 0x1.a02f0c7d75ec6p-54},
    {0x3fef24dfe1f56381, -0x1.6b87b3f71085ep-54}, {0x3fef21ba7591bb70, -0x1.03297e78260bfp-55},
    {0x3fef1e9df51fdee1, 0x1.2f7e16d09ab31p-55}, {0x3fef1b8a66d10f13, -0x1.5b77e5ccd9fbfp-54},
    {0x3fef187fd0dad990, -0x1.d219b1a6fbffap-60}, {0x3fef157e39771b2f, -0x1.1e75c40b4251ep-54},
    {0x3fef1285a6e4030b, 0x1.b3782720c0ab4p-55}, {0x3fef0f961f641589, 0x1.8a911f1f7785ap-54},
    {0x3fef0cafa93e2f56, 0x1.e149289cecb8fp-57}, {0x3fef09d24abd886b, -0x1.1e7c998db7dbbp-57},
    {0x3fef06fe0a31b715, 0x1.34d754db0abb6p-55}, {0x3fef0432edeeb2fd, 0x1.5425c11faadf4p-55},
    {0x3fef0170fc4cd831, 0x1.64201e2ac744cp-55}, {0x3feefeb83ba8ea32, -0x1.79517a03e2847p-54},
    {0x3feefc08b26416ff, 0x1.fdd395dd3f84ap-55}, {0x3feef96266e3fa2d, -0x1.00e2a46da4beep-55},
    {0x3feef6c55f929ff1, -0x1.6a3803b8e5b04p-55}, {0x3feef431a2de883b, -0x1.7430803972b34p-55},
    {0x3feef1a7373aa9cb, -0x1.24aedcc4b5068p-54}, {0x3feeef26231e754a, -0x1.54de30ae02d94p-54},
    {0x3feeecae6d05d866, -0x1.907f81b512d8ep-54}, {0x3feeea401b7140ef, -0x1.4f2487e1c03ecp-54},
    {0x3feee7db34e59ff7, -0x1.1d1e83e9436d2p-56}, {0x3feee57fbfec6cf4, 0x1.14a5432fcb2f4p-54},
    {0x3feee32dc313a8e5, -0x1.91919b3ce1b15p-54}, {0x3feee0e544ede173, 0x1.9c3bba5562a2fp-56},
    {0x3feedea64c123422, 0x1.59f48a72a4c6dp-55}, {0x3feedc70df1c5175, -0x1.5a71612e21658p-55},
    {0x3feeda4504ac801c, -0x1.312607a28698ap-54}, {0x3feed822c367a024, 0x1.6421f6f1d24d6p-55},
    {0x3feed60a21f72e2a, -0x1.8a78f4817895bp-58}, {0x3feed3fb2709468a, -0x1.348a6815fce65p-54},
    {0x3feed1f5d950a897, -0x1.c2c9b67499a1bp-56}, {0x3feecffa3f84b9d4, 0x1.35c43984d9871p-55},
    {0x3feece086061892d, 0x1.363ed60c2ac11p-59}, {0x3feecc2042a7d232, -0x1.32afc8d9473a0p-57},
    {0x3feeca41ed1d0057, 0x1.666093b0664efp-54}, {0x3feec86d668b3237, -0x1.5fc5e44de020ep-54},
    {0x3feec6a2b5c13cd0, 0x1.ecce1daa10379p-57}, {0x3feec4e1e192aed2, -0x1.ea0148327c42fp-56},
    {0x3feec32af0d7d3de, 0x1.3ff8e3f0f1230p-54}, {0x3feec17dea6db7d7, -0x1.a843ad1a88022p-56},
    {0x3feebfdad5362a27, 0x1.690cebb7aafb0p-56}, {0x3feebe41b817c114, 0x1.92ca3bf144e63p-55},
    {0x3feebcb299fddd0d, 0x1.31dbdeb54e077p-54}, {0x3feebb2d81d8abff, -0x1.02c99b04aa8b0p-54},
    {0x3feeb9b2769d2ca7, -0x1.f94340071a38ep-55}, {0x3feeb8417f4531ee, 0x1.3e34f67e67118p-56},
    {0x3feeb6daa2cf6642, -0x1.7deccdc93a349p-55}, {0x3feeb57de83f4eef, -0x1.5a3b1197ba0f0p-56},
    {0x3feeb42b569d4f82, -0x1.8dec6bd0f385fp-56}, {0x3feeb2e2f4f6ad27, 0x1.1bd2888075068p-55},
    {0x3feeb1a4ca5d920f, -0x1.61246ec7b5cf6p-55}, {0x3feeb070dde910d2, -0x1.96be8ae89ef8fp-55},
    {0x3feeaf4736b527da, 0x1.3350518fdd78ep-54}, {0x3feeae27dbe2c4cf, -0x1.8e6ac90348602p-55},
    {0x3feead12d497c7fd, 0x1.b98b72f8a9b05p-56}, {0x3feeac0827ff07cc, -0x1.1af7f1365c3acp-54},
    {0x3feeab07dd485429, 0x1.063e1e21c5409p-54}, {0x3feeaa11fba87a03, -0x1.43a3540d1898ap-54},
    {0x3feea9268a5946b7, 0x1.4c7855019c6eap-60}, {0x3feea84590998b93, -0x1.51f58ddaa8090p-54},
    {0x3feea76f15ad2148, 0x1.432e62b64c035p-54}, {0x3feea6a320dceb71, -0x1.2e1648e50a17cp-55},
    {0x3feea5e1b976dc09, -0x1.ce44a6199769fp-55}, {0x3feea52ae6cdf6f4, 0x1.5f30eda98a575p-54},
    {0x3feea47eb03a5585, -0x1.c33c53bef4da8p-55}, {0x3feea3dd1d1929fd, 0x1.17ecda8a72159p-54},
    {0x3feea34634ccc320, -0x1.45378892be9aep-55}, {0x3feea2b9febc8fb7, -0x1.345f3cee1ae6ep-54},
    {0x3feea23882552225, -0x1.3cedd78565858p-54}, {0x3feea1c1c70833f6, -0x1.5c33fdf910406p-55},
    {0x3feea155d44ca973, 0x1.710aa807e1964p-58}, {0x3feea0f4b19e9538, 0x1.1079ab5789604p-55},
    {0x3feea09e667f3bcd, -0x1.3b3efbf5e2228p-54}, {0x3feea052fa75173e, 0x1.27df161cd7778p-56},
    {0x3feea012750bdabf, -0x1.a12ad8734b982p-57}, {0x3fee9fdcddd47645, 0x1.3f9924a05b767p-54},
    {0x3fee9fb23c651a2f, -0x1.367efb86da9eep-57}, {0x3fee9f9298593ae5, -0x1.7557939a8b5efp-55},
    {0x3fee9f7df9519484, -0x1.0dc3d54e08851p-55}, {0x3fee9f7466f42e87, 0x1.1ed2f56fa9d1ap-58},
    {0x3fee9f75e8ec5f74, -0x1.81f647e5a3ecfp-56}, {0x3fee9f8286ead08a, -0x1.8e67a9006c909p-55},
    {0x3fee9f9a48a58174, -0x1.6ee4ac08b7db0p-55}, {0x3fee9fbd35d7cbfd, 0x1.6597566977ac8p-55},
    {0x3fee9feb564267c9, -0x1.619321e55e68ap-55}, {0x3feea024b1ab6e09, 0x1.2c0b7028a5c3ap-54},
    {0x3feea0694fde5d3f, 0x1.09ccb5e09d4d3p-54}, {0x3feea0b938ac1cf6, 0x1.a30faf49cc78cp-55},
    {0x3feea11473eb0187, -0x1.b32dcb94da51dp-56}, {0x3feea17b0976cfdb, -0x1.2dad3519d7b5bp-54},
    {0x3feea1ed0130c132, 0x1.4ecfd5467c06bp-54}, {0x3feea26a62ff86f0, 0x1.7d51410fd15c2p-55},
    {0x3feea2f336cf4e62, 0x1.5ebe1abd66c55p-57}, {0x3feea3878491c491, -0x1.60a3629969871p-56},
    {0x3feea427543e1a12, -0x1.8a1c52fb3cf42p-55}, {0x3feea4d2add106d9, 0x1.b18c6e3fdef5dp-55},
    {0x3feea589994cce13, -0x1.369b6f13b3734p-54}, {0x3feea64c1eb941f7, 0x1.0ec1ddcb1390ap-54},
    {0x3feea71a4623c7ad, -0x1.05e843a19ff1ep-55}, {0x3feea7f4179f5b21, -0x1.22cea4f3afa1ep-58},
    {0x3feea8d99b4492ed, -0x1.4d450d872576ep-54}, {0x3feea9cad931a436, 0x1.c88549b958471p-56},
    {0x3feeaac7d98a6699, 0x1.0ad675b0e8a00p-54}, {0x3feeabd0a478580f, 0x1.31143962f7877p-54},
    {0x3feeace5422aa0db, 0x1.db72fc1f0eab4p-55}, {0x3feeae05bad61778, 0x1.3e9e96f112479p-54},
    {0x3feeaf3216b5448c, -0x1.5b6609cc5e7ffp-57}, {0x3feeb06a5e0866d9, -0x1.dac42a4a38df0p-55},
    {0x3feeb1ae99157736, 0x1.bf68359f35f44p-56}, {0x3feeb2fed0282c8a, 0x1.b99dd98b1ed84p-55},
    {0x3feeb45b0b91ffc6, -0x1.3091fa71e3d83p-54}, {0x3feeb5c353aa2fe2, -0x1.885ad50cbb750p-56},
    {0x3feeb737b0cdc5e5, -0x1.da9b88b6c1e29p-58}, {0x3feeb8b82b5f98e5, -0x1.2d5e85f3e0301p-55},
    {0x3feeba44cbc8520f, -0x1.c23f97c90b959p-57}, {0x3feebbdd9a7670b3, -0x1.1669428996971p-58},
    {0x3feebd829fde4e50, -0x1.2434322f4f9aap-54}, {0x3feebf33e47a22a2, 0x1.1f2b2c1c4c014p-56},
    {0x3feec0f170ca07ba, -0x1.5ca6cd7668e4bp-55}, {0x3feec2bb4d53fe0d, -0x1.294f304f166b6p-54},
    {0x3feec49182a3f090, 0x1.1affc2b91ce27p-56}, {0x3feec674194bb8d5, -0x1.a1e58414c07d3p-55},
    {0x3feec86319e32323, 0x1.dd235e10a73bbp-57}, {0x3feeca5e8d07f29e, -0x1.9740b58a20091p-56},
    {0x3feecc667b5de565, -0x1.7c50422622263p-55}, {0x3feece7aed8eb8bb, 0x1.165830a2b96c2p-54},
    {0x3feed09bec4a2d33, 0x1.b1c86e3e231d5p-55}, {0x3feed2c980460ad8, -0x1.03d5cbe27874bp-54},
    {0x3feed503b23e255d, -0x1.1bbd1d3bcbb15p-54}, {0x3feed74a8af46052, 0x1.986178980fce0p-58},
    {0x3feed99e1330b358, 0x1.0cc319cee31d2p-54}, {0x3feedbfe53c12e59, -0x1.9472975b1f2a5p-55},
    {0x3feede6b5579fdbf, 0x1.469846e735ab3p-55}, {0x3feee0e521356eba, 0x1.d8157a34b7e7fp-56},
    {0x3feee36bbfd3f37a, -0x1.2dfcd978e9db4p-55}, {0x3feee5ff3a3c2774, 0x1.c8a4e231ebb7dp-55},
    {0x3feee89f995ad3ad, 0x1.c1a7792cb3387p-55}, {0x3feeeb4ce622f2ff, -0x1.88c8d11a142e5p-55},
    {0x3feeee07298db666, -0x1.07b8f4ad1d9fap-54}, {0x3feef0ce6c9a8952, 0x1.89c2ea41433c7p-55},
    {0x3feef3a2b84f15fb, -0x1.5c3d956dcaebap-58}, {0x3feef68415b749b1, -0x1.274aedac8ff80p-56},
    {0x3feef9728de5593a, -0x1.0a40e3da6f640p-54}, {0x3feefc6e29f1c52a, 0x1.5c620ce76df06p-55},
    {0x3feeff76f2fb5e47, -0x1.8d6f438ad9334p-57}, {0x3fef028cf22749e4, -0x1.fda52e1b51e41p-55},
    {0x3fef05b030a1064a, -0x1.1eee26b588a35p-54}, {0x3fef08e0b79a6f1f, -0x1.2141a7b3e2cd8p-60},
    {0x3fef0c1e904bc1d2, 0x1.4ffd70a5fddcdp-56}, {0x3fef0f69c3f3a207, -0x1.02899507554e5p-60},
    {0x3fef12c25bd71e09, -0x1.1bdfbfa9298acp-54}, {0x3fef16286141b33d, -0x1.0dda2d4c0010cp-55},
    {0x3fef199bdd85529c, 0x1.36eae30af0cb3p-56}, {0x3fef1d1cd9fa652c, -0x1.a007daadf8d68p-55},
    {0x3fef20ab5fffd07a, 0x1.ee3325c9ffd94p-55}, {0x3fef244778fafb22, 0x1.36909391181d3p-55},
    {0x3fef27f12e57d14b, 0x1.4e08fd10959acp-55}, {0x3fef2ba88988c933, -0x1.11cd7dbdf9547p-55},
    {0x3fef2f6d9406e7b5, 0x1.3cdaf384e1a67p-57}, {0x3fef33405751c4db, -0x1.ac28b7bef6621p-56},
    {0x3fef3720dcef9069, 0x1.76b2c6c921968p-57}, {0x3fef3b0f2e6d1675, -0x1.030587207b9e1p-56},
    {0x3fef3f0b555dc3fa, -0x1.08a1883ccb5d2p-55}, {0x3fef43155b5bab74, -0x1.cc734592af7fcp-55},
    {0x3fef472d4a07897c, -0x1.fad5d3ffffa6fp-55}, {0x3fef4b532b08c968, 0x1.7752a44f587e8p-55},
    {0x3fef4f87080d89f2, -0x1.00dae3875a949p-54}, {0x3fef53c8eacaa1d6, 0x1.5b66fefeef52ep-55},
    {0x3fef5818dcfba487, 0x1.4a385a63d07a7p-56}, {0x3fef5c76e862e6d3, 0x1.159d9d908a96ep-58},
    {0x3fef60e316c98398, -0x1.2919e2040220fp-55}, {0x3fef655d71ff6075, 0x1.c254d16117a68p-55},
    {0x3fef69e603db3285, 0x1.e5a50d5c192acp-55}, {0x3fef6e7cd63a8315, -0x1.d8c329fbd0e03p-55},
    {0x3fef7321f301b460, 0x1.43a59ac016b4bp-55}, {0x3fef77d5641c0658, -0x1.ea6e6fbd5f2a6p-55},
    {0x3fef7c97337b9b5f, -0x1.2d52107b43e1fp-55}, {0x3fef81676b197d17, -0x1.3e8e3eab2cbb4p-57},
    {0x3fef864614f5a129, -0x1.92ab93b470dc9p-55}, {0x3fef8b333b16ee12, -0x1.b7966cd0d2cd9p-55},
    {0x3fef902ee78b3ff6, 0x1.4b604603a88d3p-56}, {0x3fef953924676d76, -0x1.76caa4c2ff1cfp-56},
    {0x3fef9a51fbc74c83, 0x1.3c5ec519d7271p-55}, {0x3fef9f7977cdb740, -0x1.1d5fc525d9940p-55},
    {0x3fefa4afa2a490da, -0x1.ff7128fd391f0p-55}, {0x3fefa9f4867cca6e, 0x1.55cd8aaea3d21p-55},
    {0x3fefaf482d8e67f1, -0x1.dae98e223747dp-55}, {0x3fefb4aaa2188510, 0x1.269947c2bed4ap-55},
    {0x3fefba1bee615a27, 0x1.ec3bc41aa2008p-55}, {0x3fefbf9c1cb6412a, -0x1.3b6137e9afe9ep-55},
    {0x3fefc52b376bba97, 0x1.42b94c3a9eb32p-55}, {0x3fefcac948dd7274, -0x1.9fa74878ba7c7p-57},
    {0x3fefd0765b6e4540, 0x1.a64a931d185eep-55}, {0x3fefd632798844f8, 0x1.01f3a75ee0efep-54},
    {0x3fefdbfdad9cbe14, -0x1.e37bae43be3edp-55}, {0x3fefe1d802243c89, -0x1.16a9ce6ed84fap-58},
    {0x3fefe7c1819e90d8, 0x1.7893b4d91cd9dp-56}, {0x3fefedba3692d514, -0x1.99c7db2effc76p-57},
    {0x3feff3c22b8f71f1, 0x1.305c14160cc89p-58}, {0x3feff9d96b2a23d9, 0x1.4b458677f9840p-57},
};
// clang-format on

//! Constants of exp_generic, named for the tests: k = round(x·256/ln2) and
//! r = (x − k·step_hi) − k·step_lo, with step_hi = ln2/256 rounded to 34 significant bits (so
//! that k·step_hi is exact for |k| < 2^19) and step_lo the rest rounded; exp(r) − 1 ≈
//! r + r²(C2 + C3 r + C4 r²), a minimax fit (Remez, mpmath) of (e^r − 1 − r)/r² on |r| <= ln2/512
//! whose absolute error is below 2^-56.5.
namespace exp_constants {
inline constexpr double inv_step = 0x1.71547652b82fep+8;  // 256/ln2
inline constexpr double step_hi = 0x1.62e42fef80000p-9;
inline constexpr double step_lo = 0x1.1cf79abc9e3b4p-44;
inline constexpr double C2 = 0x1.fffffffffffebp-2;
inline constexpr double C3 = 0x1.555556deebd45p-3;
inline constexpr double C4 = 0x1.5555570aa737ap-5;
}  // namespace exp_constants

typedef double DoublePair __attribute__((vector_size(16)));

[[gnu::always_inline]] inline DoublePair load_pair(const char* p) {
  DoublePair v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

#if defined(__AVX512F__)
//! The table entries at byte offsets a, b, c, d of base as one vector: bits_a tail_a bits_b …
//! (the maskz insert, and shuffles rather than unpack intrinsics: those pass GCC 12's
//! _mm512_undefined_pd, which draws -Wmaybe-uninitialized).
[[gnu::always_inline]] inline __m256d load_two_entries(const char* base, std::uint64_t a,
                                                       std::uint64_t b) {
  const __m128d lo = _mm_loadu_pd(reinterpret_cast<const double*>(base + a));
  return _mm256_insertf128_pd(_mm256_castpd128_pd256(lo),
                              _mm_loadu_pd(reinterpret_cast<const double*>(base + b)), 1);
}
[[gnu::always_inline]] inline __m512d load_four_entries(const char* base, std::uint64_t a,
                                                        std::uint64_t b, std::uint64_t c,
                                                        std::uint64_t d) {
  return _mm512_maskz_insertf64x4(0xff, _mm512_castpd256_pd512(load_two_entries(base, a, b)),
                                  load_two_entries(base, c, d), 1);
}
#endif

//! The table entries at the byte offsets 16 j of each lane: bits and tail. Loads are exact, so
//! how they are gathered does not change any result. For 2, 4 and 8 lanes the 16-byte entries
//! are loaded whole and split by two shuffles (cheaper than scalar loads and inserts, and than
//! the gather instructions on AMD Zen 4); the AVX-512 code takes its offsets through memory.
template <class T>
[[gnu::always_inline]] inline void exp_table_lookup(const Bits<T>& offset, Bits<T>& bits, T& tail) {
  const char* const base = reinterpret_cast<const char*>(kExpTable);
  constexpr std::size_t kLanes = sizeof(T) / sizeof(double);
  if constexpr (std::is_same_v<T, double>) {
    __builtin_memcpy(&bits, base + offset, sizeof bits);
    __builtin_memcpy(&tail, base + offset + sizeof bits, sizeof tail);
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
  } else if constexpr (kLanes == 2) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    bits = __builtin_bit_cast(Bits<T>, __builtin_shufflevector(p0, p1, 0, 2));
    tail = __builtin_shufflevector(p0, p1, 1, 3);
  } else if constexpr (kLanes == 4) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    const DoublePair p2 = load_pair(base + offset[2]), p3 = load_pair(base + offset[3]);
#if !defined(__AVX__)
    // Two SSE registers: split each half on its own.
    bits = __builtin_bit_cast(
        Bits<T>, __builtin_shufflevector(__builtin_shufflevector(p0, p1, 0, 2),
                                         __builtin_shufflevector(p2, p3, 0, 2), 0, 1, 2, 3));
    tail = __builtin_shufflevector(__builtin_shufflevector(p0, p1, 1, 3),
                                   __builtin_shufflevector(p2, p3, 1, 3), 0, 1, 2, 3);
#else
    const T even = __builtin_shufflevector(p0, p2, 0, 1, 2, 3);  // bits0 tail0 bits2 tail2
    const T odd = __builtin_shufflevector(p1, p3, 0, 1, 2, 3);
    bits = __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 4, 2, 6));
    tail = __builtin_shufflevector(even, odd, 1, 5, 3, 7);
#endif
#if defined(__AVX512F__)
  } else if constexpr (kLanes == 8) {
    // GCC makes the generic shuffles below into extractions of the offsets lane by lane and
    // extra copies; through memory and inserts the lookup takes a fifth fewer instructions.
    alignas(64) std::uint64_t o[8];
    _mm512_store_si512(o, __builtin_bit_cast(__m512i, offset));
    const __m512d even = load_four_entries(base, o[0], o[2], o[4], o[6]);
    const __m512d odd = load_four_entries(base, o[1], o[3], o[5], o[7]);
    bits =
        __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 8, 2, 10, 4, 12, 6, 14));
    tail = __builtin_shufflevector(even, odd, 1, 9, 3, 11, 5, 13, 7, 15);
#endif
  } else if constexpr (kLanes == 8 && kVectorRegisterBytes < 64) {
    // In halves, each as 4 lanes.
    typedef double Half __attribute__((vector_size(32)));
    const Bits<Half> lo = __builtin_shufflevector(offset, offset, 0, 1, 2, 3);
    const Bits<Half> hi = __builtin_shufflevector(offset, offset, 4, 5, 6, 7);
    Bits<Half> bits_lo, bits_hi;
    Half tail_lo, tail_hi;
    exp_table_lookup<Half>(lo, bits_lo, tail_lo);
    exp_table_lookup<Half>(hi, bits_hi, tail_hi);
    bits = __builtin_shufflevector(bits_lo, bits_hi, 0, 1, 2, 3, 4, 5, 6, 7);
    tail = __builtin_shufflevector(tail_lo, tail_hi, 0, 1, 2, 3, 4, 5, 6, 7);
  } else if constexpr (kLanes == 8) {
    const DoublePair p0 = load_pair(base + offset[0]), p1 = load_pair(base + offset[1]);
    const DoublePair p2 = load_pair(base + offset[2]), p3 = load_pair(base + offset[3]);
    const DoublePair p4 = load_pair(base + offset[4]), p5 = load_pair(base + offset[5]);
    const DoublePair p6 = load_pair(base + offset[6]), p7 = load_pair(base + offset[7]);
    const T even = __builtin_shufflevector(__builtin_shufflevector(p0, p2, 0, 1, 2, 3),
                                           __builtin_shufflevector(p4, p6, 0, 1, 2, 3), 0, 1, 2, 3,
                                           4, 5, 6, 7);
    const T odd = __builtin_shufflevector(__builtin_shufflevector(p1, p3, 0, 1, 2, 3),
                                          __builtin_shufflevector(p5, p7, 0, 1, 2, 3), 0, 1, 2, 3,
                                          4, 5, 6, 7);
    bits =
        __builtin_bit_cast(Bits<T>, __builtin_shufflevector(even, odd, 0, 8, 2, 10, 4, 12, 6, 14));
    tail = __builtin_shufflevector(even, odd, 1, 9, 3, 11, 5, 13, 7, 15);
#endif
#endif
  } else {
    for (std::size_t i = 0; i < kLanes; ++i) {
      std::uint64_t b;
      double t;
      __builtin_memcpy(&b, base + offset[i], sizeof b);
      __builtin_memcpy(&t, base + offset[i] + sizeof b, sizeof t);
      bits[i] = b;
      tail[i] = t;
    }
  }
}

//! exp for a double or lane-wise for a vector of doubles, without branches, written with
//! operators and builtins only (__builtin_bit_cast; select on a comparison, lane-wise for
//! vectors; exact table loads), so that the same text means the same arithmetic for both.
//! Table-driven (Tang's method, laid out as glibc's exp): x = (256 e + j) ln2/256 + r with
//! k = 256 e + j = round(x·256/ln2), |r| <= ln2/512 (a little more where x·256/ln2 rounds),
//! exp(x) = 2^e · H_j (1 + tail_j) · e^r ≈ 2^e (S + S·p), S = H_j, p = tail_j + e^r − 1 from a
//! degree-4 polynomial. |p| < 0.0028, so every rounding but the last sum's costs under 0.01 ulp.
//! The chain of dependent operations is about half that of fdlibm's rational approximation, with
//! no division: this is what makes it fast with 4-wide vectors (the 8-wide ones are limited by
//! throughput, where the table loads about balance the division they replace).
template <class T>
[[gnu::always_inline]] inline T exp_generic(const T& x) {
  using U = Bits<T>;
  namespace c = exp_constants;
  constexpr double o_threshold = 7.09782712893383973096e+02;   // 0x40862e42fefa39ef
  constexpr double u_threshold = -7.45133219101941108420e+02;  // 0xc0874910d52d3051
  // k by the shifter trick: for |x·256/ln2| < 2^50 the sum lies in [2^52, 2^53), whose spacing
  // is 1, so it is rounded to an integer, and its low mantissa bits hold k ± 16384 (two's
  // complement). The ±16384 = ±64·256 biases e by ±64: the scale S·2^(e±64) is then a normal
  // double for every x in [u_threshold, o_threshold] (e in [-1077, 1024]), and the last product
  // by 2^∓64 rounds once, into the subnormals too (gradual underflow), or is exact. Outside
  // that range k is garbage and the result is replaced below.
  const auto negative = x < 0.0;
  const T shifter = select(negative, T{} + (0x1.8p52 + 16384.0), T{} + (0x1.8p52 - 16384.0));
  const T t = x * c::inv_step + shifter;
  const T k = t - shifter;  // exact
  const U biased_k = __builtin_bit_cast(U, t);
  const T r = (x - k * c::step_hi) - k * c::step_lo;  // x − k·step_hi is exact
  U table_bits;
  T tail;
  exp_table_lookup<T>((biased_k << 4) & 0xff0, table_bits, tail);  // offset 16 j
  const T rr = r * r;
  const T p = ((r + tail) + rr * (c::C2 + r * c::C3)) + (rr * rr) * c::C4;
  // bits(H_j) − j·2^44 + (k ± 16384)·2^44 = bits(H_j) + (e ± 64)·2^52 (mod 2^64), as the bits
  // of 0x1.8p52 vanish from the shifted sum.
  const T scale = __builtin_bit_cast(T, table_bits + (biased_k << 44));
  const T factor = select(negative, T{} + 0x1p-64, T{} + 0x1p64);
  T result = (scale + scale * p) * factor;
  // Special cases by selects.
  const T inf = T{} + std::numeric_limits<double>::infinity();
  result = select(x > o_threshold, inf, result);
  const T twice = x + x;                              // NaN: quiet, payload kept
  const T outside = select(0.0 > twice, T{}, twice);  // +0 below u_threshold and for -inf, NaN
  result = select(x >= u_threshold, result, outside);
  return result;
}

}  // namespace detail

//! e^x within 1 ulp (measured max 0.77 ulp); gradual underflow for x below about -708.4,
//! 0 below -745.13…, +inf above 709.78…, exp(0) = 1 exactly, NaN → NaN.
[[gnu::always_inline]] inline double exp(double x) {
  return detail::exp_generic(x);
}

//! exp of each lane of a GCC/Clang vector of doubles, e.g.
//! `double __attribute__((vector_size(32)))`: bitwise exactly exp(double) of every lane
//! (the same code), without branches. The argument is taken by reference, which spares callers
//! GCC's ABI note on by-value vectors wider than the target's registers; the returned vector
//! still draws -Wpsabi there (GCC and Clang), which such callers silence (the kernels build
//! with -Wno-psabi).
template <detail::DoubleLanes V>
[[gnu::always_inline]] inline V exp_lanes(const V& x) {
  return detail::exp_generic(x);
}

namespace detail {

[[gnu::always_inline]] inline std::int32_t high_word(double x) {
  return static_cast<std::int32_t>(std::bit_cast<std::uint64_t>(x) >> 32);
}
[[gnu::always_inline]] inline std::uint32_t low_word(double x) {
  return static_cast<std::uint32_t>(std::bit_cast<std::uint64_t>(x));
}
//! x with its high 32 bits replaced.
[[gnu::always_inline]] inline double with_high_word(double x, std::int32_t high) {
  return std::bit_cast<double>(
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32) | low_word(x));
}
[[gnu::always_inline]] inline double from_words(std::int32_t high, std::uint32_t low) {
  return std::bit_cast<double>(
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32) | low);
}

inline constexpr double kInf = std::numeric_limits<double>::infinity();
//! The NaN of an invalid argument: one fixed bit pattern (0x7ff8000000000000), rather than the
//! CPU's default NaN of 0/0, whose sign differs between architectures.
inline constexpr double kInvalid = std::numeric_limits<double>::quiet_NaN();

}  // namespace detail

//! Natural log within 1 ulp (measured max 0.87 ulp): fdlibm e_log.c. log(±0) = -inf,
//! log(x < 0) = NaN, log(+inf) = +inf, log(1) = +0, NaN → NaN; subnormals are scaled by 2^54.
[[gnu::always_inline]] inline double log(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
  constexpr double two54 = 1.80143985094819840000e+16;   // 0x4350000000000000
  constexpr double Lg1 = 6.666666666666735130e-01;       // 0x3fe5555555555593
  constexpr double Lg2 = 3.999999999940941908e-01;       // 0x3fd999999997fa04
  constexpr double Lg3 = 2.857142874366239149e-01;       // 0x3fd2492494229359
  constexpr double Lg4 = 2.222219843214978396e-01;       // 0x3fcc71c51d8e78af
  constexpr double Lg5 = 1.818357216161805012e-01;       // 0x3fc7466496cb03de
  constexpr double Lg6 = 1.531383769920937332e-01;       // 0x3fc39a09d078c69f
  constexpr double Lg7 = 1.479819860511658591e-01;       // 0x3fc2f112df3e5244
  std::int32_t hx = detail::high_word(x);
  const std::uint32_t lx = detail::low_word(x);
  std::int32_t k = 0;
  if (hx < 0x00100000) {  // x < 2^-1022
    if (((hx & 0x7fffffff) | static_cast<std::int32_t>(lx)) == 0) return -detail::kInf;
    if (hx < 0) return x != x ? x + x : detail::kInvalid;  // negative or NaN with sign bit
    k -= 54;                                               // subnormal: scale up
    x *= two54;
    hx = detail::high_word(x);
  }
  if (hx >= 0x7ff00000) return x + x;  // +inf, NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  std::int32_t i = (hx + 0x95f64) & 0x100000;
  x = detail::with_high_word(x, hx | (i ^ 0x3ff00000));  // normalise x or x/2
  k += i >> 20;
  const double f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {  // -2^-20 <= f < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      const double dk = static_cast<double>(k);
      return dk * ln2_hi + dk * ln2_lo;
    }
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const double dk = static_cast<double>(k);
    return dk * ln2_hi - ((R - dk * ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double dk = static_cast<double>(k);
  const double z = s * s;
  i = hx - 0x6147a;
  const double w = z * z;
  const std::int32_t j = 0x6b851 - hx;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  i |= j;
  const double R = t2 + t1;
  if (i > 0) {
    const double hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
}

//! log(1 + x) within 1 ulp (measured max 0.81 ulp): fdlibm s_log1p.c (FreeBSD msun
//! revision). log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(+inf) = +inf, x for |x| < 2^-54,
//! NaN → NaN.
[[gnu::always_inline]] inline double log1p(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76
  constexpr double Lp1 = 6.666666666666735130e-01;       // 0x3fe5555555555593
  constexpr double Lp2 = 3.999999999940941908e-01;       // 0x3fd999999997fa04
  constexpr double Lp3 = 2.857142874366239149e-01;       // 0x3fd2492494229359
  constexpr double Lp4 = 2.222219843214978396e-01;       // 0x3fcc71c51d8e78af
  constexpr double Lp5 = 1.818357216161805012e-01;       // 0x3fc7466496cb03de
  constexpr double Lp6 = 1.531383769920937332e-01;       // 0x3fc39a09d078c69f
  constexpr double Lp7 = 1.479819860511658591e-01;       // 0x3fc2f112df3e5244
  const std::int32_t hx = detail::high_word(x);
  const std::int32_t ax = hx & 0x7fffffff;
  std::int32_t k = 1;
  std::int32_t hu = 0;
  double f = 0.0, c = 0.0;
  if (hx < 0x3fda827a) {     // 1 + x < sqrt(2)+
    if (ax >= 0x3ff00000) {  // x <= -1.0, or a NaN with its sign bit set
      if (x == -1.0) return -detail::kInf;
      return x != x ? x + x : detail::kInvalid;
    }
    if (ax < 0x3e200000) {            // |x| < 2^-29
      if (ax < 0x3c900000) return x;  // |x| < 2^-54
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= static_cast<std::int32_t>(0xbfd2bec4)) {  // sqrt(2)/2- <= 1+x < sqrt(2)+
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x;  // +inf, NaN
  if (k != 0) {
    double u;
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = detail::high_word(u);
      k = (hu >> 20) - 1023;
      c = (k > 0) ? 1.0 - (u - x) : x - (u - 1.0);  // correction term
      c /= u;
    } else {
      u = x;
      hu = detail::high_word(u);
      k = (hu >> 20) - 1023;
      c = 0.0;
    }
    hu &= 0x000fffff;
    // The thresholds above are less strict than this one, so that k == 0 (which does not use
    // the correction term) is never reached from here.
    if (hu < 0x6a09e) {                                // u ~< sqrt(2)
      u = detail::with_high_word(u, hu | 0x3ff00000);  // normalise u
    } else {
      k += 1;
      u = detail::with_high_word(u, hu | 0x3fe00000);  // normalise u/2
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const double hfsq = 0.5 * f * f;
  const double dk = static_cast<double>(k);
  if (hu == 0) {  // |f| < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      c += dk * ln2_lo;
      return dk * ln2_hi + c;
    }
    const double R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return dk * ln2_hi - ((R - (dk * ln2_lo + c)) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double R = z * (Lp1 + z * (Lp2 + z * (Lp3 + z * (Lp4 + z * (Lp5 + z * (Lp6 + z * Lp7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + (dk * ln2_lo + c))) - f);
}

//! e^x − 1 within 1 ulp (measured max 0.79 ulp): fdlibm s_expm1.c (FreeBSD msun revision).
//! expm1(x > 709.78…) = +inf, expm1(x < -56 ln2) = -1, expm1(-inf) = -1, x for |x| < 2^-54,
//! NaN → NaN.
[[gnu::always_inline]] inline double expm1(double x) {
  constexpr double o_threshold = 7.09782712893383973096e+02;  // 0x40862e42fefa39ef
  constexpr double ln2_hi = 6.93147180369123816490e-01;       // 0x3fe62e42fee00000
  constexpr double ln2_lo = 1.90821492927058770002e-10;       // 0x3dea39ef35793c76
  constexpr double invln2 = 1.44269504088896338700e+00;       // 0x3ff71547652b82fe
  // fdlibm's Q_n scaled by 2^n, for R(2z) with z = x²/2.
  constexpr double Q1 = -3.33333333333331316428e-02;  // 0xbfa11111111110f4
  constexpr double Q2 = 1.58730158725481460165e-03;   // 0x3f5a01a019fe5585
  constexpr double Q3 = -7.93650757867487942473e-05;  // 0xbf14ce199eaadbb7
  constexpr double Q4 = 4.00821782732936239552e-06;   // 0x3ed0cfca86e65239
  constexpr double Q5 = -2.01099218183624371326e-07;  // 0xbe8afdb76e09c32d
  std::uint32_t hx = static_cast<std::uint32_t>(detail::high_word(x));
  const bool negative = (hx & 0x80000000u) != 0;
  hx &= 0x7fffffffu;  // high word of |x|
  // Huge and non-finite arguments.
  if (hx >= 0x4043687au) {    // |x| >= 56 ln2
    if (hx >= 0x40862e42u) {  // |x| >= 709.78…
      if (hx >= 0x7ff00000u) {
        if (((hx & 0xfffffu) | detail::low_word(x)) != 0) return x + x;  // NaN
        return negative ? -1.0 : x;                                      // ±inf
      }
      if (x > o_threshold) return detail::kInf;
    }
    if (negative) return -1.0;  // x < -56 ln2
  }
  // Argument reduction.
  double hi, lo, c = 0.0;
  std::int32_t k;
  if (hx > 0x3fd62e42u) {    // |x| > ln2/2
    if (hx < 0x3ff0a2b2u) {  // and |x| < 1.5 ln2
      if (!negative) {
        hi = x - ln2_hi;
        lo = ln2_lo;
        k = 1;
      } else {
        hi = x + ln2_hi;
        lo = -ln2_lo;
        k = -1;
      }
    } else {
      k = static_cast<std::int32_t>(invln2 * x + (negative ? -0.5 : 0.5));
      const double t = static_cast<double>(k);
      hi = x - t * ln2_hi;  // t·ln2_hi is exact here
      lo = t * ln2_lo;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000u) {  // |x| < 2^-54
    return x;
  } else {
    k = 0;
  }
  // x is now in the primary range.
  const double hfx = 0.5 * x;
  const double hxs = x * hfx;
  const double r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  double t = 3.0 - r1 * hfx;
  double e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);                                    // c is 0
  const double twopk = detail::from_words(0x3ff00000 + k * (1 << 20), 0);  // 2^k
  e = (x * (e - c) - c);
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  if (k <= -2 || k > 56) {  // exp(x) − 1 suffices
    double y = 1.0 - (e - x);
    if (k == 1024) {
      y = y * 2.0 * 0x1p1023;
    } else {
      y = y * twopk;
    }
    return y - 1.0;
  }
  double y;
  if (k < 20) {
    t = detail::from_words(0x3ff00000 - (0x200000 >> k), 0);  // 1 − 2^-k
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = detail::from_words((0x3ff - k) << 20, 0);  // 2^-k
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

}  // namespace tvk::elementary

#pragma GCC diagnostic pop
