/* myelin's optional native kernels: each optimizer rule as one pass over memory.
 *
 * The NumPy form of a rule (myelin/optimizers/__init__.py) makes about a dozen passes over
 * every parameter, one per ufunc; this file makes one. Each loop performs exactly the float
 * operations of the NumPy form, in the same order, each rounded to the element type, so the
 * results are equal bit for bit (tests/test_native.py checks that):
 *   - compiled with -ffp-contract=off, so no multiply-add is fused into one rounding;
 *   - sqrt and division are IEEE-exact here as in NumPy; -fno-math-errno only lets the
 *     compiler use the vector square root instruction.
 *
 * Optimizer state never holds a subnormal number: every state value stored is flushed to +0
 * when its magnitude is below the type's smallest normal number (FLUSH below). The NumPy forms
 * flush the same slots after the same operations, so the two stay equal bit for bit. The flush
 * is an explicit comparison: the caller's floating-point mode (FTZ/DAZ) is never changed.
 *
 * Plain C with no Python headers: myelin/native.py loads the built file with ctypes, and
 * falls back to the NumPy form when it is absent (no compiler at install time). Each rule
 * exists for float and double; target_clones builds AVX-512, AVX2 and baseline versions
 * and picks one when the library loads.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>

/* x, or +0 when |x| is subnormal (or -0); NaN and infinities pass unchanged. */
#define FLUSH(x, MINV) (((x) < (MINV) && (x) > -(MINV)) ? 0 : (x))

#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MYELIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef MYELIN_CLONES
#define MYELIN_CLONES
#endif

#if defined(_MSC_VER)
#define MYELIN_EXPORT __declspec(dllexport)
#define RESTRICT __restrict
#else
#define MYELIN_EXPORT
#define RESTRICT restrict
#endif

/* Adam (Keras's form): m <- m + (g - m) c1;  v <- v + (g*g - v) c2;
 * p <- p - (m / (sqrt(v) + eps)) alpha,  with c1 = 1 - beta_1, c2 = 1 - beta_2 and
 * alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) computed by the caller. */
#define ADAM(NAME, T, SQRT, MINV)                                                             \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT m, \
                                          T *RESTRICT v, size_t n, T c1, T c2, T eps,         \
                                          T alpha) {                                          \
        for (size_t i = 0; i < n; i++) {                                                      \
            T gi = g[i];                                                                      \
            T mi = m[i] + (gi - m[i]) * c1;                                                   \
            T vi = v[i] + (gi * gi - v[i]) * c2;                                              \
            m[i] = FLUSH(mi, MINV);                                                           \
            v[i] = FLUSH(vi, MINV);                                                           \
            p[i] -= (mi / (SQRT(vi) + eps)) * alpha;                                          \
        }                                                                                     \
    }

/* SGD (Keras's form): without momentum p <- p - g lr; with momentum mu,
 * v <- v mu - g lr, then p <- p + v, or with Nesterov p <- (p - g lr) + v mu. */
#define SGD(NAME, T, MINV)                                                                    \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT v, \
                                          size_t n, T lr, T mu, int nesterov) {               \
        if (v == NULL) {                                                                      \
            for (size_t i = 0; i < n; i++) p[i] -= g[i] * lr;                                 \
        } else if (nesterov) {                                                                \
            for (size_t i = 0; i < n; i++) {                                                  \
                T step = g[i] * lr;                                                           \
                T vi = v[i] * mu - step;                                                      \
                v[i] = FLUSH(vi, MINV);                                                       \
                p[i] = (p[i] - step) + vi * mu;                                               \
            }                                                                                 \
        } else {                                                                              \
            for (size_t i = 0; i < n; i++) {                                                  \
                T vi = v[i] * mu - g[i] * lr;                                                 \
                v[i] = FLUSH(vi, MINV);                                                       \
                p[i] += vi;                                                                   \
            }                                                                                 \
        }                                                                                     \
    }

/* RMSprop (Keras's form, not centered): s <- s rho + g*g c;  step = (g / sqrt(s + eps)) lr,
 * c = 1 - rho; with momentum mu, w <- w mu + step and p <- p - w, else p <- p - step. */
#define RMSPROP(NAME, T, SQRT, MINV)                                                          \
    MYELIN_EXPORT MYELIN_CLONES void NAME(T *RESTRICT p, const T *RESTRICT g, T *RESTRICT s, \
                                          T *RESTRICT w, size_t n, T rho, T c, T eps, T lr,   \
                                          T mu) {                                             \
        for (size_t i = 0; i < n; i++) {                                                      \
            T gi = g[i];                                                                      \
            T si = s[i] * rho + (gi * gi) * c;                                                \
            s[i] = FLUSH(si, MINV);                                                           \
            T step = (gi / SQRT(si + eps)) * lr;                                              \
            if (w != NULL) {                                                                  \
                T wi = w[i] * mu + step;                                                      \
                w[i] = FLUSH(wi, MINV);                                                       \
                p[i] -= wi;                                                                   \
            } else {                                                                          \
                p[i] -= step;                                                                 \
            }                                                                                 \
        }                                                                                     \
    }

ADAM(myelin_adam_f32, float, sqrtf, FLT_MIN)
ADAM(myelin_adam_f64, double, sqrt, DBL_MIN)
SGD(myelin_sgd_f32, float, FLT_MIN)
SGD(myelin_sgd_f64, double, DBL_MIN)
RMSPROP(myelin_rmsprop_f32, float, sqrtf, FLT_MIN)
RMSPROP(myelin_rmsprop_f64, double, sqrt, DBL_MIN)

/* The version native.py checks before using the file (a stale build is not used). */
MYELIN_EXPORT int myelin_native_version(void) { return 2; }

#if defined(_WIN32)
/* Windows links every extension with this export; the file is never imported as a module. */
MYELIN_EXPORT void *PyInit__native(void) { return NULL; }
#endif
