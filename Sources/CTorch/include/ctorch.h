/*
 * ctorch.h — the C bridge over libtorch (ATen + autograd).
 *
 * Pure C: opaque handles, int64_t* + length for shapes, out-parameters and an int32_t
 * status (0 = ok). Every function that returns a status runs inside one exception guard
 * on the C++ side; the message of the last failure on this thread is read with
 * ct_last_error(). The few functions without a status (they return a value, or nothing)
 * cannot fail.
 * Each tensor handle returned through an out-parameter is a new reference owned by the
 * caller and released with ct_free().
 *
 * Every int32_t parameter that selects among alternatives (dtype, device, op, mode) takes
 * one of the named constants below: both sides bind to the names, never to their values.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;
typedef struct ct_generator_s *ct_generator;

/* dtypes (stable, independent of c10::ScalarType numbering) */
enum {
    CT_DTYPE_FLOAT32 = 0, CT_DTYPE_FLOAT64 = 1, CT_DTYPE_FLOAT16 = 2, CT_DTYPE_BFLOAT16 = 3,
    CT_DTYPE_INT64 = 4, CT_DTYPE_INT32 = 5, CT_DTYPE_UINT8 = 6, CT_DTYPE_BOOL = 7,
    CT_DTYPE_INT8 = 8, CT_DTYPE_INT16 = 9
};
/* device types */
enum { CT_DEVICE_CPU = 0, CT_DEVICE_CUDA = 1 };

typedef struct { int32_t dtype; int32_t device_type; int32_t device_index; } ct_options;

/* A Swift number: integral scalars keep integer type promotion, as Python ints do.
 * kind says which field holds the value: f for CT_SCALAR_DOUBLE, i otherwise. */
enum { CT_SCALAR_DOUBLE = 0, CT_SCALAR_INT = 1, CT_SCALAR_BOOL = 2 };
typedef struct { double f; int64_t i; int32_t kind; } ct_scalar;

/* ---- errors ---- */
const char *ct_last_error(void);
/* Error trapping scopes: while depth > 0 the first failure on this thread is kept. */
void ct_trap_push(void);
int32_t ct_trap_depth(void);
/* Pops a scope; returns the first failure kept in it (valid until the next call) or NULL. */
const char *ct_trap_pop(void);

/* ---- runtime ---- */
/* Loads libtorch_cuda.so when it sits beside libtorch_cpu.so, so CUDA kernels register.
 * Runs once per process; every call reports the outcome of that one load. */
int32_t ct_init(void);
/* libtorch's version: a string constant, safe to read from any thread. */
const char *ct_version(void);
/* These three strings are written once, then stay valid and unchanged for the process. */
int32_t ct_library_dir(const char **out);
int32_t ct_cuda_library(const char **out); /* path loaded, or "" */
int32_t ct_build_config(const char **out);
int32_t ct_cuda_device_count(int64_t *out);
int32_t ct_cuda_synchronize(int32_t index);
/* The CUDA caching allocator's statistics of one device, in bytes: held by tensors now and at
 * most since the last reset (torch.cuda.memory_allocated / max_memory_allocated), and reserved
 * from the driver (memory_reserved / max_memory_reserved). Both fail in a CPU build. */
typedef struct { int64_t allocated; int64_t peak_allocated; int64_t reserved; int64_t peak_reserved; } ct_cuda_memory;
int32_t ct_cuda_memory_stats(int32_t index, ct_cuda_memory *out);
int32_t ct_cuda_reset_peak_memory(int32_t index);
/* CPU tensor memory, counted from the first ct_cpu_memory_count on (cpu_memory.cpp). */
typedef struct { int64_t allocated; int64_t peak_allocated; } ct_cpu_memory;
int32_t ct_cpu_memory_count(void);
int32_t ct_cpu_memory_stats(ct_cpu_memory *out);
void ct_cpu_reset_peak_memory(void);
int32_t ct_core_count(void);
int32_t ct_set_num_threads(int32_t n);
int32_t ct_get_num_threads(int32_t *out);
/* OpenBLAS's own pool, where libtorch's products run on OpenBLAS built with pthreads: its
 * threads and the exponent of its idle workers' spin (2^e cycles). Both 0 with another BLAS,
 * whose threads are libtorch's own (openblas.cpp). */
int32_t ct_openblas_pool(int32_t *threads, int32_t *spin_exponent);
/* How many threads ran a share of `tasks` one-element tasks split by the bridge's own parallel
 * loop (its fused heads, noise and lean backward kernels): libtorch's intra-op threads, up to
 * `tasks`, when the loop reaches libtorch's OpenMP runtime; 1 when it runs serially. */
int32_t ct_bridge_parallel_threads(int64_t tasks, int64_t *out);
int32_t ct_manual_seed(uint64_t seed);
/* Gives memory freed by tensors but kept by malloc back to the system (malloc_trim). */
void ct_release_free_memory(void);
/* malloc keeps freed memory for later allocations (no mmap below 2 GiB, no trimming of the
 * heap's top below 2 GiB, one arena for every thread): 1 when all three settings took, 0
 * otherwise. */
int32_t ct_malloc_retain_freed(void);
/* bytes that malloc holds free, in every arena */
int64_t ct_malloc_free_bytes(void);
int32_t ct_grad_enabled(void);
void ct_set_grad_enabled(int32_t enabled);
// Autocast on the CPU (cuda = 0) or CUDA devices: enter returns the previous state, which exit restores.
int32_t ct_autocast_enter(int32_t cuda, int32_t enabled, int32_t dtype, int32_t *was_enabled, int32_t *was_dtype);
int32_t ct_autocast_exit(int32_t cuda, int32_t was_enabled, int32_t was_dtype);
/* Seconds per call of at::add on two 1-element tensors, measured inside C++. */
int32_t ct_bench_native_add(int64_t iterations, double *out);

/* ---- generators ---- */
int32_t ct_generator_new(int32_t device_type, int32_t device_index, uint64_t seed, ct_generator *out);
void ct_generator_free(ct_generator g);
int32_t ct_generator_get_state(ct_generator g, ct_tensor *out);
int32_t ct_generator_set_state(ct_generator g, ct_tensor state);
int32_t ct_generator_seed(ct_generator g, uint64_t *out);

/* ---- tensor basics ---- */
void ct_free(ct_tensor t);
int32_t ct_from_data(const void *data, int64_t nbytes, const int64_t *shape, int64_t ndim, int32_t dtype, ct_tensor *out);
int32_t ct_copy_to_buffer(ct_tensor t, void *dst, int64_t nbytes);
int32_t ct_ndim(ct_tensor t, int64_t *out);
int32_t ct_sizes(ct_tensor t, int64_t *out, int64_t capacity);
int32_t ct_strides(ct_tensor t, int64_t *out, int64_t capacity);
int32_t ct_dtype(ct_tensor t, int32_t *out);
int32_t ct_device(ct_tensor t, int32_t *type, int32_t *index);
int32_t ct_item(ct_tensor t, double *out);
int32_t ct_item_int(ct_tensor t, int64_t *out);
int32_t ct_is_contiguous(ct_tensor t, int32_t channels_last, int32_t *out);
int32_t ct_to(ct_tensor t, ct_options opts, int32_t non_blocking, ct_tensor *out);
/* A copy of a CPU tensor in page-locked memory (Tensor.pin_memory), which a non-blocking copy
 * to a CUDA device can overlap with work; an error where no CUDA device is available. */
int32_t ct_pin_memory(ct_tensor t, ct_tensor *out);
int32_t ct_contiguous(ct_tensor t, int32_t channels_last, ct_tensor *out);
int32_t ct_clone(ct_tensor t, ct_tensor *out);
int32_t ct_alias(ct_tensor t, ct_tensor *out);
int32_t ct_equal(ct_tensor a, ct_tensor b, int32_t *out);
int32_t ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int32_t *out);
int32_t ct_to_string(ct_tensor t, char *buffer, int64_t capacity, int64_t *needed);

/* ---- creation ---- */
int32_t ct_zeros(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out);
int32_t ct_ones(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out);
int32_t ct_full(const int64_t *shape, int64_t ndim, ct_scalar value, ct_options o, ct_tensor *out);
int32_t ct_arange(ct_scalar start, ct_scalar end, ct_scalar step, ct_options o, ct_tensor *out);
int32_t ct_linspace(double start, double end, int64_t steps, ct_options o, ct_tensor *out);
int32_t ct_eye(int64_t n, ct_options o, ct_tensor *out);
/* generator may be NULL: the default generator of the device. */
int32_t ct_randn(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, ct_tensor *out);
/* Normal samples (mean 0, `std`) for injected noise (normal_noise.cpp): on the CPU, one draw of g
 * seeds a counter-based stream (float32, bf16) or a stream per chunk of 2^16 values (others),
 * filled on all threads; elsewhere at::normal. */
int32_t ct_normal_noise(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, double std, ct_tensor *out);
int32_t ct_rand(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, ct_tensor *out);
int32_t ct_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, ct_tensor *out);
int32_t ct_randperm(int64_t n, ct_options o, ct_generator g, ct_tensor *out);
int32_t ct_bernoulli(ct_tensor p, ct_generator g, ct_tensor *out);
int32_t ct_uniform_(ct_tensor t, double from, double to, ct_generator g);
int32_t ct_normal_(ct_tensor t, double mean, double std, ct_generator g);
/* Poisson samples with rates `rates` (torch.poisson). */
int32_t ct_poisson(ct_tensor rates, ct_generator g, ct_tensor *out);

/* ---- elementwise ---- */
enum {
    CT_BINARY_ADD = 0, CT_BINARY_SUB, CT_BINARY_MUL, CT_BINARY_DIV, CT_BINARY_POW,
    CT_BINARY_MAXIMUM, CT_BINARY_MINIMUM, CT_BINARY_REMAINDER, CT_BINARY_FLOOR_DIVIDE, CT_BINARY_ATAN2,
    CT_BINARY_EQ, CT_BINARY_NE, CT_BINARY_LT, CT_BINARY_LE, CT_BINARY_GT, CT_BINARY_GE,
    CT_BINARY_AND, CT_BINARY_OR, CT_BINARY_XOR,
    CT_BINARY_MATMUL, CT_BINARY_MM, CT_BINARY_BMM
};
int32_t ct_binary(int32_t op, ct_tensor a, ct_tensor b, ct_tensor *out);
int32_t ct_binary_scalar(int32_t op, ct_tensor a, ct_scalar b, ct_tensor *out);
/* scalar (op) tensor, for the operators with a scalar on the left */
int32_t ct_scalar_binary(int32_t op, ct_scalar a, ct_tensor b, ct_tensor *out);
int32_t ct_binary_(int32_t op, ct_tensor a, ct_tensor b);
int32_t ct_binary_scalar_(int32_t op, ct_tensor a, ct_scalar b);

enum {
    CT_UNARY_NEG = 0, CT_UNARY_EXP, CT_UNARY_LOG, CT_UNARY_LOG2, CT_UNARY_LOG1P, CT_UNARY_EXPM1,
    CT_UNARY_SQRT, CT_UNARY_RSQRT, CT_UNARY_ABS, CT_UNARY_RELU, CT_UNARY_GELU, CT_UNARY_SIGMOID,
    CT_UNARY_TANH, CT_UNARY_ERF, CT_UNARY_SIN, CT_UNARY_COS, CT_UNARY_FLOOR, CT_UNARY_CEIL,
    CT_UNARY_ROUND, CT_UNARY_SIGN, CT_UNARY_RECIPROCAL, CT_UNARY_SQUARE,
    CT_UNARY_NOT, CT_UNARY_ISNAN, CT_UNARY_ISFINITE
};
int32_t ct_unary(int32_t op, ct_tensor t, ct_tensor *out);
int32_t ct_unary_(int32_t op, ct_tensor t);

int32_t ct_clamp(ct_tensor t, int32_t has_min, double min, int32_t has_max, double max, ct_tensor *out);
int32_t ct_clamp_(ct_tensor t, int32_t has_min, double min, int32_t has_max, double max);
int32_t ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out);
int32_t ct_masked_fill(ct_tensor t, ct_tensor mask, ct_scalar value, ct_tensor *out);
int32_t ct_softmax(ct_tensor t, int64_t dim, ct_tensor *out);
int32_t ct_log_softmax(ct_tensor t, int64_t dim, ct_tensor *out);
int32_t ct_linear(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor *out); /* b may be NULL */

/* in place, for optimizers */
int32_t ct_add_scaled_(ct_tensor t, ct_tensor other, double alpha);
int32_t ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, double value);
int32_t ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, double value);
int32_t ct_lerp_(ct_tensor t, ct_tensor end, double weight);
/* One LARS step of one parameter in place (lars.cpp): d = g + weight_decay·p, times the trust
 * ratio η‖p‖/‖d‖ (1 where a norm is 0) when scaled, else d = g; μ ← momentum·μ + d;
 * p ← p − lr·μ. allow_fused 0 takes the composed ATen ops even where the CPU's two-pass
 * loop applies (float or double, contiguous, on the CPU). */
int32_t ct_lars_update_(ct_tensor parameter, ct_tensor grad, ct_tensor momentum_buffer, double lr, double weight_decay,
                        double momentum, double eta, int32_t scaled, int32_t allow_fused);
int32_t ct_copy_(ct_tensor dst, ct_tensor src);
int32_t ct_zero_(ct_tensor t);
int32_t ct_fill_(ct_tensor t, ct_scalar value);

/* ---- reductions ---- */
enum {
    CT_REDUCE_SUM = 0, CT_REDUCE_MEAN, CT_REDUCE_PROD, CT_REDUCE_AMAX, CT_REDUCE_AMIN,
    CT_REDUCE_LOGSUMEXP, CT_REDUCE_ALL, CT_REDUCE_ANY
};
/* dims == NULL reduces over every dimension. */
int32_t ct_reduce(int32_t op, ct_tensor t, const int64_t *dims, int64_t ndims, int32_t keepdim, ct_tensor *out);
int32_t ct_var(ct_tensor t, const int64_t *dims, int64_t ndims, int32_t unbiased, int32_t keepdim, ct_tensor *out);
int32_t ct_std(ct_tensor t, const int64_t *dims, int64_t ndims, int32_t unbiased, int32_t keepdim, ct_tensor *out);
int32_t ct_norm(ct_tensor t, double p, const int64_t *dims, int64_t ndims, int32_t keepdim, ct_tensor *out);
int32_t ct_max_dim(ct_tensor t, int64_t dim, int32_t keepdim, ct_tensor *values, ct_tensor *indices);
int32_t ct_min_dim(ct_tensor t, int64_t dim, int32_t keepdim, ct_tensor *values, ct_tensor *indices);
/* has_dim == 0: index into the flattened tensor */
int32_t ct_argmax(ct_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, ct_tensor *out);
int32_t ct_argmin(ct_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, ct_tensor *out);
int32_t ct_topk(ct_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, ct_tensor *values, ct_tensor *indices);
int32_t ct_sort(ct_tensor t, int64_t dim, int32_t descending, ct_tensor *values, ct_tensor *indices);
int32_t ct_cumsum(ct_tensor t, int64_t dim, ct_tensor *out);

/* ---- shape ---- */
int32_t ct_reshape(ct_tensor t, const int64_t *shape, int64_t ndim, ct_tensor *out);
int32_t ct_view(ct_tensor t, const int64_t *shape, int64_t ndim, ct_tensor *out);
int32_t ct_permute(ct_tensor t, const int64_t *dims, int64_t ndim, ct_tensor *out);
int32_t ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out);
int32_t ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out);
int32_t ct_squeeze(ct_tensor t, int32_t has_dim, int64_t dim, ct_tensor *out);
int32_t ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out);
int32_t ct_expand(ct_tensor t, const int64_t *shape, int64_t ndim, ct_tensor *out);
int32_t ct_repeat(ct_tensor t, const int64_t *repeats, int64_t ndim, ct_tensor *out);
int32_t ct_flip(ct_tensor t, const int64_t *dims, int64_t ndim, ct_tensor *out);
int32_t ct_roll(ct_tensor t, const int64_t *shifts, const int64_t *dims, int64_t n, ct_tensor *out);
int32_t ct_cat(const ct_tensor *ts, int64_t n, int64_t dim, ct_tensor *out);
int32_t ct_stack(const ct_tensor *ts, int64_t n, int64_t dim, ct_tensor *out);
/* Splits: at most `capacity` pieces are written, their number in *count. */
int32_t ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor *outs, int64_t capacity, int64_t *count);
int32_t ct_split(ct_tensor t, const int64_t *sizes, int64_t nsizes, int64_t dim, ct_tensor *outs);
int32_t ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length, ct_tensor *out);
int32_t ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out);
int32_t ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out);
int32_t ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out);
int32_t ct_gather(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out);
int32_t ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src, ct_tensor *out);
int32_t ct_masked_select(ct_tensor t, ct_tensor mask, ct_tensor *out);
int32_t ct_diagonal(ct_tensor t, int64_t offset, int64_t d0, int64_t d1, ct_tensor *out);
int32_t ct_diag_embed(ct_tensor t, ct_tensor *out);
int32_t ct_tril(ct_tensor t, int64_t k, ct_tensor *out);
int32_t ct_triu(ct_tensor t, int64_t k, ct_tensor *out);

/* ---- neural network functions ---- */
int32_t ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *stride, const int64_t *padding,
                  const int64_t *dilation, int64_t groups, ct_tensor *out);
/* weight, bias, running_mean, running_var may be NULL. In training with running stats,
 * the stats are updated in place with momentum and the unbiased batch variance. */
int32_t ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                      int32_t training, double momentum, double eps, ct_tensor *out);
/* the spatial pooling of ct_conv_bn_relu_pool, of r = ReLU(y) over positions: mean(r),
 * √mean(r²), mean(√(r + 1e-6)) */
enum { CT_POOLING_MEAN = 0, CT_POOLING_ROOT_MEAN_SQUARE, CT_POOLING_MEAN_SQUARE_ROOT };
/* Convolution 1×1 without bias [D, C, 1, 1] → batch norm (bn_weight, bn_bias) → ReLU → spatial
 * pooling, of x [N, C, H, W] to [N, D], differentiable, never holding [N, D, H, W] whole.
 * batch_statistics: normalise with the batch's statistics and update the running statistics
 * when given (as ct_batch_norm in training); else normalise with the running statistics.
 * tile_elements: elements of the expansion computed at once, 0 for the device's default.
 * cpu_kernels: on the CPU, for inputs of at most 32 channels (where GEMMs are slower),
 * compute the expansion and its gradient in registers (float32 and float64) rather than as
 * GEMMs over tiles.
 * input_mean [C] and input_covariance [C, C] (biased), both or neither: batch statistics of x
 * computed by the caller over `count` values per channel (synchronised over processes); the
 * node returns their gradients rather than following them into x. */
int32_t ct_conv_bn_relu_pool(ct_tensor x, ct_tensor conv_weight, ct_tensor bn_weight, ct_tensor bn_bias,
                             ct_tensor running_mean, ct_tensor running_var, int32_t batch_statistics, double momentum,
                             double eps, int32_t pooling, int64_t tile_elements, int32_t cpu_kernels,
                             ct_tensor input_mean, ct_tensor input_covariance, double count, ct_tensor *out);
/* Batch norm (bn_weight, bn_bias) → ReLU → spatial pooling of u [N, D, H, W] to [N, D] on the
 * CPU, differentiable, as one pass over each channel rather than the composed ops' passes over
 * tensors as large as u: for an expansion held whole (bf16 under autocast, k×k kernels).
 * float32, float64 or bfloat16 u (arithmetic in float32 for bf16); the output has u's type.
 * batch_statistics and the running statistics as in ct_conv_bn_relu_pool. */
int32_t ct_bn_relu_pool(ct_tensor u, ct_tensor bn_weight, ct_tensor bn_bias, ct_tensor running_mean, ct_tensor running_var,
                        int32_t batch_statistics, double momentum, double eps, int32_t pooling, ct_tensor *out);
/* ReLU of x in place, recording for autograd only where x passed (a bit per value) instead of
 * the output, so the output can be freed before the backward: for contiguous CPU tensors of
 * float32, float64 and bfloat16; torch's relu_ for others and without a graph. */
int32_t ct_relu_keeping_mask_(ct_tensor x);
/* The Barlow Twins loss of a cross-correlation matrix c [D, D]:
 * scale · [Σ_i (c_ii − target)² + lambda · Σ_{i≠j} c_ij²], differentiable, its backward forming
 * dL/dc as one D × D tensor (the composed ops make several). */
int32_t ct_barlow_twins_loss(ct_tensor c, double lambda, double target, double scale, ct_tensor *out);
/* Recording a graph on the CPU, the node keeps only the indices of the maxima (int32 where
 * they fit), not the input: same values and gradient as torch's max_pool2d. */
int32_t ct_max_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                      const int64_t *dilation, int32_t ceil_mode, ct_tensor *out);
int32_t ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                      int32_t ceil_mode, int32_t count_include_pad, ct_tensor *out);
int32_t ct_adaptive_avg_pool2d(ct_tensor x, const int64_t *size, ct_tensor *out);
/* interpolation modes of ct_interpolate and ct_grid_sample */
enum { CT_INTERP_NEAREST = 0, CT_INTERP_BILINEAR, CT_INTERP_BICUBIC };
int32_t ct_interpolate(ct_tensor x, int32_t mode, const int64_t *size, int32_t align_corners, int32_t antialias, ct_tensor *out);
int32_t ct_affine_grid(ct_tensor theta, const int64_t *size, int64_t ndim, int32_t align_corners, ct_tensor *out);
/* what ct_grid_sample reads outside the input */
enum { CT_GRID_PADDING_ZEROS = 0, CT_GRID_PADDING_BORDER, CT_GRID_PADDING_REFLECTION };
int32_t ct_grid_sample(ct_tensor x, ct_tensor grid, int32_t mode, int32_t padding, int32_t align_corners, ct_tensor *out);
int32_t ct_dropout(ct_tensor x, double p, int32_t train, ct_tensor *out);
/* how a loss reduces over the batch */
enum { CT_REDUCTION_NONE = 0, CT_REDUCTION_MEAN, CT_REDUCTION_SUM };
int32_t ct_cross_entropy(ct_tensor logits, ct_tensor target, ct_tensor weight, int32_t reduction,
                         int64_t ignore_index, double label_smoothing, ct_tensor *out);
int32_t ct_one_hot(ct_tensor t, int64_t num_classes, ct_tensor *out);
enum { CT_PAD_CONSTANT = 0, CT_PAD_REFLECT, CT_PAD_REPLICATE };
int32_t ct_pad(ct_tensor x, const int64_t *pad, int64_t n, int32_t mode, double value, ct_tensor *out);

/* ---- autograd ---- */
int32_t ct_set_requires_grad(ct_tensor t, int32_t requires_grad);
int32_t ct_requires_grad(ct_tensor t, int32_t *out);
int32_t ct_is_leaf(ct_tensor t, int32_t *out);
/* grad may be NULL for a scalar output */
int32_t ct_backward(ct_tensor t, ct_tensor grad, int32_t retain_graph, int32_t create_graph);
/* *out is NULL when no gradient has been accumulated */
int32_t ct_grad(ct_tensor t, ct_tensor *out);
/* grad NULL: set the gradient to none */
int32_t ct_set_grad(ct_tensor t, ct_tensor grad);
int32_t ct_detach(ct_tensor t, ct_tensor *out);
/* grad_outputs may be NULL, or hold NULL entries; outs[i] is NULL for an unused input */
int32_t ct_autograd_grad(const ct_tensor *outputs, int64_t noutputs, const ct_tensor *inputs, int64_t ninputs,
                         const ct_tensor *grad_outputs, int32_t retain_graph, int32_t create_graph,
                         int32_t allow_unused, ct_tensor *outs);

/* ---- modules ---- */
/* Replaces the data of t by that of data (any dtype or device), keeping t's identity
 * and autograd leaf status, as `param.data = data` in PyTorch. */
int32_t ct_set_data(ct_tensor t, ct_tensor data);

/* ---- raw memory (data loading: decode straight into a tensor) ---- */
int32_t ct_empty(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out);
/* The first element of a contiguous CPU tensor; fails for other tensors. */
int32_t ct_data_ptr(ct_tensor t, void **out);
int32_t ct_index_copy_(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor source);

/* ---- distributed (c10d process groups, rendezvous through a TCPStore) ---- */
typedef struct ct_process_group_s *ct_process_group;
/* An asynchronous collective or point-to-point operation; its tensors stay alive with it. */
typedef struct ct_work_s *ct_work;
enum { CT_BACKEND_GLOO = 0, CT_BACKEND_NCCL = 1 };
enum { CT_REDUCE_OP_SUM = 0, CT_REDUCE_OP_MAX = 1, CT_REDUCE_OP_MIN = 2 };
/* 1 when this build can create process groups of that backend: Gloo always, NCCL in a CUDA
 * build compiled with its headers (a CUDA device is needed only to create one). */
int32_t ct_dist_backend_available(int32_t backend);
/* Joins a group of world_size ranks through the store at host:port, which this process serves
 * when serve_store is 1 (rank 0, unless a launcher serves it); timeout_ms bounds the
 * rendezvous and every collective. NCCL without a CUDA device fails before the rendezvous.
 * An NCCL group carries CUDA tensors over NCCL and CPU tensors (and barriers) over a Gloo group
 * of its own, as torch.distributed's "cpu:gloo,cuda:nccl" does; one operation takes one kind.
 * Waiting on NCCL work blocks the thread until the collective ends on the GPU (or fails after
 * timeout_ms), as Gloo's does. */
int32_t ct_pg_new(const char *host, int32_t port, int32_t rank, int32_t world_size, int32_t backend,
                  int64_t timeout_ms, int32_t serve_store, ct_process_group *out);
int32_t ct_pg_new_subgroup(ct_process_group parent, const char *name, int32_t rank, int32_t size, ct_process_group *out);
void ct_pg_free(ct_process_group pg);
/* In place, on every rank's tensors. */
int32_t ct_pg_all_reduce(ct_process_group pg, const ct_tensor *tensors, int64_t n, int32_t op, ct_work *out);
int32_t ct_pg_broadcast(ct_process_group pg, const ct_tensor *tensors, int64_t n, int32_t root, ct_work *out);
/* outputs: one tensor per rank, shaped as input. */
int32_t ct_pg_all_gather(ct_process_group pg, ct_tensor input, const ct_tensor *outputs, int64_t n, ct_work *out);
int32_t ct_pg_barrier(ct_process_group pg, ct_work *out);
int32_t ct_pg_send(ct_process_group pg, ct_tensor t, int32_t dst, int32_t tag, ct_work *out);
int32_t ct_pg_recv(ct_process_group pg, ct_tensor t, int32_t src, int32_t tag, ct_work *out);
/* The group's rendezvous store, shared by its ranks: small values under string keys.
 * get: *found = 0 when the key is unset; else the value, NUL-terminated, cut to capacity. */
int32_t ct_pg_store_set(ct_process_group pg, const char *key, const char *value);
int32_t ct_pg_store_get(ct_process_group pg, const char *key, char *buffer, int64_t capacity, int32_t *found);
int32_t ct_work_wait(ct_work w);
int32_t ct_work_is_completed(ct_work w, int32_t *out);
void ct_work_free(ct_work w);
/* Differentiable collectives: the sum over ranks, and every rank's rows concatenated in rank
 * order; in backward each passes on the sum over ranks of the gradients (its own rows for gather). */
int32_t ct_dist_sum(ct_process_group pg, ct_tensor t, ct_tensor *out);
int32_t ct_dist_gather(ct_process_group pg, ct_tensor t, ct_tensor *out);
/* Batch normalisation in training with the statistics of every rank's batch (SyncBatchNorm);
 * weight, bias and the running statistics may be NULL. */
int32_t ct_dist_batch_norm(ct_process_group pg, ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor running_mean,
                           ct_tensor running_var, double momentum, double eps, ct_tensor *out);

#ifdef __cplusplus
}
#endif

#endif
