/* eec_runtime.h: the early-exit driver shared by every network eec compiles to C.
 *
 * An early-exit network runs segment k of its backbone, then exit head k, and stops there when
 * the head's confidence h = sigmoid(z) reaches the exit's threshold T; otherwise it goes on to
 * segment k + 1. The last segment ends in the backbone's own classifier, which always answers.
 *
 * The test h >= T is made on logits, z >= logit(T) = ln(T / (1 - T)), so no exponential is
 * needed at run time. Thresholds are passed to every call as logits: change them whenever you
 * like (eec_threshold_logit converts a probability without libm).
 *
 * Portable C99 using only <stdint.h> and <stddef.h>: no malloc, no libm, no stdio and no global
 * mutable state. Everything a run writes lives in the arena its caller passes, so the functions
 * are reentrant: two threads may run the same network at once, each with its own arena.
 */
#ifndef EEC_RUNTIME_H
#define EEC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes of eec_run and eec_run_all (and of the <model>_run wrappers). */
#define EEC_OK 0
#define EEC_ERROR_NULL 1      /* a required pointer is NULL */
#define EEC_ERROR_ALIGNMENT 2 /* the arena is not aligned for floats (4 bytes) */

/* The class_index of a result whose logits hold a NaN. A NaN or infinite input, or weights that
 * overflow, propagate NaN through the kernels; an exit whose confidence logit is NaN is never
 * taken (z >= T is false), so such a sample reaches the final classifier, and its NaN logits give
 * no class rather than a silent class 0. */
#define EEC_NO_CLASS (-1)

/* The largest finite float. It is the confidence logit reported when the final classifier
 * answers (it always does), eec_threshold_logit(1) (never exit) and, negated,
 * eec_threshold_logit(0) (always exit). */
#define EEC_LOGIT_MAX 0x1.fffffep+127f

/* What one inference returns. */
typedef struct eec_result {
    int32_t class_index;    /* argmax of the answering classifier's logits (the first on ties);
                               EEC_NO_CLASS when one of them is NaN */
    int32_t exit_index;     /* 0 .. exits-1 for an early exit, exits for the final classifier */
    float confidence_logit; /* z of the answering exit, h = 1 / (1 + e^-z); EEC_LOGIT_MAX for the final one */
    uint64_t macs;          /* multiply-accumulates spent: segments run plus every exit head evaluated */
} eec_result;

/* One step of a network, a backbone segment or an exit head: reads and writes the arena. */
typedef void (*eec_step)(const float *weights, float *arena);

/* A compiled network, as <model>.c describes it: a constant, never written. Offsets count floats
 * from the start of the arena. Arrays of length `exits` are NULL when the network has none. */
typedef struct eec_model {
    const char *name;
    uint32_t exits;
    uint32_t classes;
    uint32_t input_channels, input_height, input_width;
    uint32_t input_offset;              /* where the input goes, channels last ([H][W][C]) */
    uint32_t arena_bytes;
    uint32_t arena_align;               /* the alignment the kernels run fastest with; 4 is required */
    const eec_step *segments;           /* exits + 1 */
    const eec_step *heads;              /* exits */
    const uint32_t *logits_offsets;     /* exits + 1: each exit's class logits, then the final classifier's */
    const uint32_t *confidence_offsets; /* exits: each exit's confidence logit */
    const uint64_t *segment_macs;       /* exits + 1 */
    const uint64_t *head_macs;          /* exits */
} eec_model;

/* Runs one input with early exits.
 *   weights           the network's weights (<model>_weights, or a copy of them anywhere in memory)
 *   input             float32 [C][H][W], the IR's input shape without the batch axis
 *   arena             arena_bytes of memory, owned by the caller, aligned to 4 bytes at least
 *                     (to arena_align for the best speed)
 *   threshold_logits  one per exit, logit(T_k); may be NULL when the network has no exits.
 *                     EEC_LOGIT_MAX (T = 1) switches exit k off: its head is not even run
 *   logits            NULL, or room for `classes` floats: the answering classifier's logits
 *   result            what answered, its class, its confidence and the MACs spent
 * Returns EEC_OK, EEC_ERROR_NULL or EEC_ERROR_ALIGNMENT. */
int eec_run(const eec_model *model, const float *weights, const float *input, void *arena,
            const float *threshold_logits, float *logits, eec_result *result);

/* Runs one input through every segment and every exit head, for calibration and tests.
 *   logits             (exits + 1) * classes floats: exit 0's logits, ..., the final classifier's
 *   confidence_logits  exits floats (NULL when the network has no exits)
 * Returns EEC_OK, EEC_ERROR_NULL or EEC_ERROR_ALIGNMENT. */
int eec_run_all(const eec_model *model, const float *weights, const float *input, void *arena,
                float *logits, float *confidence_logits);

/* logit(T) = ln(T / (1 - T)) without libm, for setting thresholds at run time (relative error
 * about 1e-7). T <= 0 gives -EEC_LOGIT_MAX (always exit), T >= 1 EEC_LOGIT_MAX (never exit). */
float eec_threshold_logit(float threshold);

/* e^x without libm (within 2 ulp), for the softmax, sigmoid and max-softmax kernels. */
float eec_expf(float x);

/* ln x without libm (within 3 ulp, relative error below 2.3e-7, over every positive finite
 * float, subnormals included), for eec_threshold_logit and the max-softmax confidence kernel.
 * Only for positive finite x: zero, negative, infinite and NaN arguments give meaningless
 * finite values. */
float eec_logf(float x);

#ifdef __cplusplus
}
#endif

#endif /* EEC_RUNTIME_H */
