/* eec_runtime.c: the early-exit driver (see eec_runtime.h). */
#include "eec_runtime.h"

/* Checks the pointers every entry point needs, and that the arena can hold floats (the
 * network's arena_align is only what the kernels run fastest with). */
static int eec_check(const eec_model *model, const float *weights, const float *input, const void *arena)
{
    if (model == NULL || weights == NULL || input == NULL || arena == NULL) return EEC_ERROR_NULL;
    if ((uintptr_t)arena % sizeof(float) != 0) return EEC_ERROR_ALIGNMENT;
    return EEC_OK;
}

/* Copies the caller's [C][H][W] input into the arena, channels last ([H][W][C]), the layout
 * every kernel works in. */
static void eec_load_input(const eec_model *model, const float *input, float *arena)
{
    const uint32_t channels = model->input_channels;
    const uint32_t pixels = model->input_height * model->input_width;
    float *x = arena + model->input_offset;
    uint32_t c, i;
    for (c = 0; c < channels; ++c) {
        for (i = 0; i < pixels; ++i) x[i * channels + c] = input[c * pixels + i];
    }
}

/* Index of the largest logit, the first one on ties (as torch.argmax); EEC_NO_CLASS when a logit
 * is NaN (a NaN or infinite input propagates to the logits: no class is better than class 0). */
static int32_t eec_argmax(const float *logits, uint32_t count)
{
    uint32_t best = 0, i;
    for (i = 0; i < count; ++i) {
        if (logits[i] != logits[i]) return EEC_NO_CLASS;
        if (logits[i] > logits[best]) best = i;
    }
    return (int32_t)best;
}

/* Fills the result from the classifier of exit k (k == exits: the final one). */
static void eec_answer(const eec_model *model, const float *arena, uint32_t k, float confidence_logit,
                       uint64_t macs, float *logits, eec_result *result)
{
    const float *answer = arena + model->logits_offsets[k];
    uint32_t i;
    if (logits != NULL) {
        for (i = 0; i < model->classes; ++i) logits[i] = answer[i];
    }
    result->class_index = eec_argmax(answer, model->classes);
    result->exit_index = (int32_t)k;
    result->confidence_logit = confidence_logit;
    result->macs = macs;
}

int eec_run(const eec_model *model, const float *weights, const float *input, void *arena,
            const float *threshold_logits, float *logits, eec_result *result)
{
    float *a = (float *)arena;
    uint64_t macs = 0;
    uint32_t k;
    int status = eec_check(model, weights, input, arena);
    if (status != EEC_OK) return status;
    if (result == NULL || (model->exits > 0 && threshold_logits == NULL)) return EEC_ERROR_NULL;
    eec_load_input(model, input, a);
    for (k = 0; k < model->exits; ++k) {
        float z;
        model->segments[k](weights, a);
        macs += model->segment_macs[k];
        /* An exit switched off (T = 1) costs nothing: its head is not run. */
        if (threshold_logits[k] >= EEC_LOGIT_MAX) continue;
        model->heads[k](weights, a);
        macs += model->head_macs[k];
        z = a[model->confidence_offsets[k]];
        /* h >= T  <=>  z >= logit(T); a NaN confidence never exits. */
        if (z >= threshold_logits[k]) {
            eec_answer(model, a, k, z, macs, logits, result);
            return EEC_OK;
        }
    }
    model->segments[model->exits](weights, a);
    macs += model->segment_macs[model->exits];
    eec_answer(model, a, model->exits, EEC_LOGIT_MAX, macs, logits, result);
    return EEC_OK;
}

int eec_run_all(const eec_model *model, const float *weights, const float *input, void *arena,
                float *logits, float *confidence_logits)
{
    float *a = (float *)arena;
    uint32_t k, i;
    int status = eec_check(model, weights, input, arena);
    if (status != EEC_OK) return status;
    if (logits == NULL || (model->exits > 0 && confidence_logits == NULL)) return EEC_ERROR_NULL;
    eec_load_input(model, input, a);
    for (k = 0; k <= model->exits; ++k) {
        const float *answer;
        model->segments[k](weights, a);
        if (k < model->exits) {
            model->heads[k](weights, a);
            confidence_logits[k] = a[model->confidence_offsets[k]];
        }
        answer = a + model->logits_offsets[k];
        for (i = 0; i < model->classes; ++i) logits[k * model->classes + i] = answer[i];
    }
    return EEC_OK;
}

/* Bits of a float and back: union punning is defined in C99 (6.5.2.3, footnote 82). */
typedef union eec_bits {
    float f;
    uint32_t u;
} eec_bits;

/* 2^k for k in [-126, 127], built from its exponent bits. */
static float eec_pow2(int32_t k)
{
    eec_bits v;
    v.u = (uint32_t)(k + 127) << 23;
    return v.f;
}

float eec_expf(float x)
{
    /* x = k ln2 + r with |r| <= ln2/2 (ln2 split in two so k ln2 is exact), then
     * e^x = 2^k e^r with e^r by its Taylor series to r^7 (truncation < 6e-9 relative). */
    const float ln2_hi = 0x1.62e4p-1f, ln2_lo = 0x1.7f7d1cp-20f, log2e = 0x1.715476p+0f;
    float r, p, t;
    int32_t k, half;
    if (x != x) return x;
    if (x > 0x1.62e42ep+6f) {
        eec_bits inf;
        inf.u = 0x7f800000u;
        return inf.f;
    }
    if (x < -0x1.9fe368p+6f) return 0.0f;
    t = x * log2e;
    k = (int32_t)(t < 0.0f ? t - 0.5f : t + 0.5f);
    r = (x - (float)k * ln2_hi) - (float)k * ln2_lo;
    p = 1.0f + r * (1.0f + r * (0x1p-1f + r * (0x1.555556p-3f + r * (0x1.555556p-5f
        + r * (0x1.111112p-7f + r * (0x1.6c16c2p-10f + r * 0x1.a01a02p-13f))))));
    /* k is in [-150, 128]: scale in two steps so that neither power leaves the normal range. */
    half = k / 2;
    return p * eec_pow2(half) * eec_pow2(k - half);
}

/* ln x for a positive finite x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^13. */
float eec_logf(float x)
{
    const float ln2 = 0x1.62e430p-1f;
    eec_bits v;
    int32_t e = 0;
    float m, s, s2;
    v.f = x;
    if (v.u < 0x00800000u) { /* subnormal: scale into the normal range first */
        v.f = x * 0x1p+24f;
        e = -24;
    }
    e += (int32_t)(v.u >> 23) - 127;
    v.u = (v.u & 0x007fffffu) | 0x3f800000u;
    m = v.f;
    if (m > 0x1.6a09e6p+0f) {
        m *= 0.5f;
        e += 1;
    }
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    return (float)e * ln2 + 2.0f * s * (1.0f + s2 * (0x1.555556p-2f + s2 * (0x1.99999ap-3f
        + s2 * (0x1.24924ap-3f + s2 * (0x1.c71c72p-4f + s2 * (0x1.745d18p-4f + s2 * 0x1.3b13b2p-4f))))));
}

float eec_threshold_logit(float threshold)
{
    float odds;
    if (threshold != threshold) return EEC_LOGIT_MAX; /* NaN: never exit */
    if (threshold <= 0.0f) return -EEC_LOGIT_MAX;     /* always exit */
    if (threshold >= 1.0f) return EEC_LOGIT_MAX;      /* never exit */
    odds = threshold / (1.0f - threshold);
    return eec_logf(odds);
}
