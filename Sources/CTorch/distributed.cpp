// Distributed: libtorch's own c10d process groups (Gloo; NCCL in a CUDA build), rendezvous
// through a TCPStore.
//
// ProcessGroupGloo and ProcessGroupNCCL derive from c10d::ProcessGroup in 1.13 and from
// c10d::Backend in 2.x; both bases declare the same collectives, so the bridge holds the
// group as that base. NCCL is compiled only where Package.swift found a CUDA build with the
// headers it needs (CTORCH_CUDA); Debian's 1.13 and the CPU wheel build exactly as before.
#include "bridge.hpp"
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef CTORCH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct ct_process_group_s {
    // The rendezvous store, under a prefix of its own: a launcher's store (torchrun's agent)
    // holds keys of its own.
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<Collectives> backend;
    int32_t backend_code;
    // An NCCL group also holds a Gloo group over the same store for CPU tensors (a configuration
    // hash, metrics, message headers), as torch.distributed's default "cpu:gloo,cuda:nccl"
    // group does: NCCL takes CUDA tensors only. Null in a Gloo group.
    c10::intrusive_ptr<Collectives> cpu;
    int32_t rank;
    int32_t world_size;
    int64_t id;
    // What a subgroup needs to join over the same store.
    std::string host;
    std::chrono::milliseconds timeout;
};

struct ct_work_s {
    c10::intrusive_ptr<c10d::Work> work;
    // NCCL's plain wait() only makes the current CUDA stream wait and returns at once; with a
    // timeout it blocks the thread until the collective ends and throws when it does not, so
    // a lost rank is an error here rather than a stream that never drains. Gloo's wait()
    // already blocks, bounded by the group's timeout.
    std::optional<std::chrono::milliseconds> blocking_timeout;
};

namespace {

// Differentiable collectives keep only an id in their autograd nodes: a group freed before
// its graph runs backward is then a clear error rather than a dangling pointer.
std::mutex registry_mutex;
std::unordered_map<int64_t, ct_process_group_s *> registry;
std::atomic<int64_t> next_id{1};

ct_process_group_s &registered(int64_t id) {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto found = registry.find(id);
    if (found == registry.end()) throw std::runtime_error("the process group of this graph was already closed");
    return *found->second;
}

ct_process_group_s &group(ct_process_group pg) {
    if (pg == nullptr) throw std::invalid_argument("no process group");
    return *pg;
}

c10d::ReduceOp reduce_op(int32_t code) {
    switch (code) {
    case CT_REDUCE_OP_SUM: return c10d::ReduceOp::SUM;
    case CT_REDUCE_OP_MAX: return c10d::ReduceOp::MAX;
    case CT_REDUCE_OP_MIN: return c10d::ReduceOp::MIN;
    }
    throw std::invalid_argument("unknown reduce op code " + std::to_string(code));
}

// The backend that carries `tensors`: an NCCL group's own for CUDA tensors, its Gloo companion
// for CPU tensors (and for a barrier, which holds back host threads, not GPU streams).
struct Route {
    Collectives &group;
    bool nccl;
};

Route route(ct_process_group_s &pg, const std::vector<at::Tensor> &tensors) {
    if (!pg.cpu) return {*pg.backend, pg.backend_code == CT_BACKEND_NCCL};
    bool cuda = false, host = tensors.empty();
    for (const auto &t : tensors) (t.is_cuda() ? cuda : host) = true;
    if (cuda && host) {
        throw std::invalid_argument("one operation over CPU and CUDA tensors at once: an NCCL group sends CUDA tensors "
                                    "over NCCL and CPU tensors over Gloo, so each operation takes one kind");
    }
    return cuda ? Route{*pg.backend, true} : Route{*pg.cpu, false};
}

at::Tensor all_reduce_sum(ct_process_group_s &pg, const at::Tensor &x) {
    std::vector<at::Tensor> tensors{x.contiguous().clone()};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    route(pg, tensors).group.allreduce(tensors, options)->wait();
    return tensors[0];
}

// y = Σ over ranks of x; dL/dx = Σ over ranks of dL/dy (each rank's loss depends on every x).
struct DistributedSum : public torch::autograd::Function<DistributedSum> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t id) {
        ctx->saved_data["group"] = id;
        return all_reduce_sum(registered(id), x);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        auto &pg = registered(ctx->saved_data["group"].toInt());
        return {all_reduce_sum(pg, grads[0]), at::Tensor()};
    }
};

// y = every rank's x concatenated along dim 0, in rank order; dL/dx = this rank's slice of
// Σ over ranks of dL/dy.
struct DistributedGather : public torch::autograd::Function<DistributedGather> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t id) {
        auto &pg = registered(id);
        ctx->saved_data["group"] = id;
        ctx->saved_data["rows"] = x.size(0);
        std::vector<at::Tensor> input{x.contiguous()};
        std::vector<std::vector<at::Tensor>> outputs(1);
        for (int32_t r = 0; r < pg.world_size; ++r) outputs[0].push_back(at::empty_like(input[0]));
        route(pg, input).group.allgather(outputs, input)->wait();
        return at::cat(outputs[0], 0);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        auto &pg = registered(ctx->saved_data["group"].toInt());
        int64_t rows = ctx->saved_data["rows"].toInt();
        return {all_reduce_sum(pg, grads[0]).narrow(0, pg.rank * rows, rows), at::Tensor()};
    }
};

// Batch normalisation over every rank's batch (PyTorch's SyncBatchNorm), as one autograd
// node that keeps only x and per-channel statistics for backward: one exchange forward (each
// rank's mean and sum of squared deviations, combined in float64 by Chan's rule, which is
// as exact as one two-pass over the whole batch) and one backward (the sums of dy and of
// dy·(x − mean)). Every rank's batch has the same size.
struct DistributedBatchNorm : public torch::autograd::Function<DistributedBatchNorm> {
    static std::vector<int64_t> reduced_dims(const at::Tensor &x) {
        std::vector<int64_t> dims{0};
        for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
        return dims;
    }
    static std::vector<int64_t> channel_shape(const at::Tensor &x) {
        std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
        shape[1] = x.size(1);
        return shape;
    }

    // Optional tensors: autograd tracks only those given.
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &input,
                              const c10::optional<at::Tensor> &weight_, const c10::optional<at::Tensor> &bias_,
                              const c10::optional<at::Tensor> &running_mean_, const c10::optional<at::Tensor> &running_var_,
                              double momentum, double eps, int64_t id) {
        auto &pg = registered(id);
        at::Tensor weight = weight_.value_or(at::Tensor()), bias = bias_.value_or(at::Tensor());
        at::Tensor running_mean = running_mean_.value_or(at::Tensor()), running_var = running_var_.value_or(at::Tensor());
        at::Tensor x = input.contiguous();
        auto dims = reduced_dims(x);
        int64_t channels = x.size(1), local = x.numel() / channels;
        at::Tensor mean = x.mean(dims);
        at::Tensor m2 = (x - mean.view(channel_shape(x))).square().sum(dims);
        std::vector<at::Tensor> input_stats{at::cat({mean, m2}).to(at::kDouble)};
        std::vector<std::vector<at::Tensor>> gathered(1);
        for (int32_t r = 0; r < pg.world_size; ++r) gathered[0].push_back(at::empty_like(input_stats[0]));
        route(pg, input_stats).group.allgather(gathered, input_stats)->wait();
        at::Tensor stats = at::stack(gathered[0]);          // [ranks, 2C]
        at::Tensor means = stats.narrow(1, 0, channels), m2s = stats.narrow(1, channels, channels);
        double total = static_cast<double>(local) * pg.world_size;
        at::Tensor global_mean = means.mean(0);
        at::Tensor global_m2 = m2s.sum(0) + (means - global_mean).square().sum(0) * static_cast<double>(local);
        at::Tensor variance = global_m2 / total;
        {
            at::NoGradGuard no_grad;
            if (running_mean.defined()) running_mean.mul_(1 - momentum).add_(global_mean.to(running_mean.scalar_type()) * momentum);
            if (running_var.defined()) {
                running_var.mul_(1 - momentum).add_(variance.to(running_var.scalar_type()) * (momentum * total / std::max(total - 1, 1.0)));
            }
        }
        at::Tensor mean_x = global_mean.to(x.scalar_type()), variance_x = variance.to(x.scalar_type());
        at::Tensor invstd = (variance_x + eps).rsqrt();
        torch::autograd::variable_list kept{x, mean_x, invstd};
        if (weight.defined()) kept.push_back(weight);
        ctx->save_for_backward(kept);
        ctx->saved_data["group"] = id;
        ctx->saved_data["total"] = total;
        ctx->saved_data["bias"] = bias.defined();
        // The statistics are fixed now: ATen's inference kernel normalises in one pass.
        return at::batch_norm(x, weight, bias, mean_x, variance_x, false, 0.0, eps, false);
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        auto saved = ctx->get_saved_variables();
        at::Tensor x = saved[0], mean = saved[1], invstd = saved[2];
        at::Tensor weight = saved.size() > 3 ? saved[3] : at::Tensor();
        auto &pg = registered(ctx->saved_data["group"].toInt());
        double total = ctx->saved_data["total"].toDouble();
        at::Tensor dy = grads[0].contiguous();
        auto dims = reduced_dims(x);
        auto shape = channel_shape(x);
        int64_t channels = x.size(1);
        at::Tensor centered = x - mean.view(shape);
        at::Tensor sum_dy = dy.sum(dims), sum_dy_centered = (dy * centered).sum(dims);
        std::vector<at::Tensor> sums{at::cat({sum_dy, sum_dy_centered})};
        c10d::AllreduceOptions options;
        options.reduceOp = c10d::ReduceOp::SUM;
        route(pg, sums).group.allreduce(sums, options)->wait();
        at::Tensor mean_dy = sums[0].narrow(0, 0, channels) / total;
        at::Tensor mean_dy_centered = sums[0].narrow(0, channels, channels) / total;
        at::Tensor scale = weight.defined() ? weight * invstd : invstd;
        at::Tensor grad_input = (dy - mean_dy.view(shape) - centered * (invstd.square() * mean_dy_centered).view(shape)) * scale.view(shape);
        // The affine parameters see this rank's share; data-parallel averaging sums the shares.
        at::Tensor grad_weight = weight.defined() ? sum_dy_centered * invstd : at::Tensor();
        at::Tensor grad_bias = ctx->saved_data["bias"].toBool() ? sum_dy : at::Tensor();
        return {grad_input, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

ct_work new_work(const ct_process_group_s &pg, const Route &route, c10::intrusive_ptr<c10d::Work> work) {
    std::optional<std::chrono::milliseconds> blocking;
    if (route.nccl) blocking = pg.timeout;
    return new ct_work_s{std::move(work), blocking};
}

bool nccl_compiled() {
#ifdef CTORCH_CUDA
    return true;
#else
    return false;
#endif
}

// Checked before the rendezvous, so that a rank that cannot take part fails at once instead
// of holding the others until the store's timeout.
void check_backend(int32_t backend) {
    switch (backend) {
    case CT_BACKEND_GLOO: return;
    case CT_BACKEND_NCCL: {
        if (!nccl_compiled()) {
            throw std::invalid_argument("this libtorch build has no NCCL process group (a CPU build); use gloo, or build "
                                        "against a CUDA libtorch (LIBTORCH=…, see `make test-cuda-build`)");
        }
        int devices = at::detail::getCUDAHooks().getNumGPUs();
        if (devices < 1) {
            throw std::invalid_argument("an NCCL process group needs a CUDA device, and libtorch sees none here "
                                        "(no GPU or no NVIDIA driver); use gloo on CPUs");
        }
        return;
    }
    }
    throw std::invalid_argument("unknown process group backend code " + std::to_string(backend));
}

// The group's collectives over `store`; check_backend has accepted `backend`.
c10::intrusive_ptr<Collectives> make_backend(int32_t backend, const c10::intrusive_ptr<c10d::Store> &store, int32_t rank,
                                             int32_t size, const std::string &host, std::chrono::milliseconds timeout) {
#ifdef CTORCH_CUDA
    if (backend == CT_BACKEND_NCCL) {
        // Each collective runs on the device of its tensors; communicators are made on first use.
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = timeout;
        return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
    }
#endif
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, gloo_options);
}

// A group of `backend` over `store`, with an NCCL group's Gloo companion under a prefix of its own.
ct_process_group_s *new_group(int32_t backend, const c10::intrusive_ptr<c10d::Store> &store, int32_t rank, int32_t size,
                              const std::string &host, std::chrono::milliseconds timeout) {
    auto collectives = make_backend(backend, store, rank, size, host, timeout);
    c10::intrusive_ptr<Collectives> cpu;
    if (backend == CT_BACKEND_NCCL) {
        cpu = make_backend(CT_BACKEND_GLOO, c10::make_intrusive<c10d::PrefixStore>("cpu", store), rank, size, host, timeout);
    }
    auto *pg = new ct_process_group_s{store, collectives, backend, cpu, rank, size, next_id++, host, timeout};
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[pg->id] = pg;
    return pg;
}

// NCCL's destructor warns, and may leak its communicators, unless the group was shut down
// first (destroy_process_group in Python); Gloo needs nothing. shutdown() exists from 2.x on.
template <class Group>
auto shut_down(Group &g, int) -> decltype(g.shutdown(), void()) {
    g.shutdown();
}
template <class Group>
void shut_down(Group &, long) {}

std::vector<at::Tensor> tensors(const ct_tensor *handles, int64_t n) {
    std::vector<at::Tensor> result;
    for (int64_t i = 0; i < n; ++i) result.push_back(T(handles[i]));
    return result;
}

} // namespace

extern "C" {

int32_t ct_dist_backend_available(int32_t backend) {
    switch (backend) {
    case CT_BACKEND_GLOO: return 1;
    case CT_BACKEND_NCCL: return nccl_compiled() ? 1 : 0;
    }
    return 0;
}

int32_t ct_pg_new(const char *host, int32_t port, int32_t rank, int32_t world_size, int32_t backend,
                  int64_t timeout_ms, int32_t serve_store, ct_process_group *out) {
    CT_GUARD({
        check_backend(backend);
        if (world_size < 1 || rank < 0 || rank >= world_size) {
            throw std::invalid_argument("rank " + std::to_string(rank) + " is outside world size " + std::to_string(world_size));
        }
        auto timeout = std::chrono::milliseconds(timeout_ms);
        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(port);
        options.isServer = serve_store != 0;
        options.numWorkers = static_cast<size_t>(world_size);
        options.waitWorkers = true;
        options.timeout = timeout;
        auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
        c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::PrefixStore>("blockwise", tcp);
        *out = new_group(backend, store, rank, world_size, host, timeout);
    })
}

// A group of some of the parent's ranks (torch.distributed.new_group): only its members call
// this, each with its rank in the subgroup; the group's keys live under `name` in the
// parent's store, so groups of other members never meet.
int32_t ct_pg_new_subgroup(ct_process_group parent, const char *name, int32_t rank, int32_t size, ct_process_group *out) {
    CT_GUARD({
        auto &p = group(parent);
        if (size < 1 || rank < 0 || rank >= size) {
            throw std::invalid_argument("rank " + std::to_string(rank) + " is outside subgroup size " + std::to_string(size));
        }
        c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::PrefixStore>(std::string(name), p.store);
        *out = new_group(p.backend_code, store, rank, size, p.host, p.timeout);
    })
}

void ct_pg_free(ct_process_group pg) {
    if (pg == nullptr) return;
    {
        std::lock_guard<std::mutex> lock(registry_mutex);
        registry.erase(pg->id);
    }
    if (pg->backend_code == CT_BACKEND_NCCL) {
        // A failed shutdown (a communicator already aborted by the watchdog) leaves only the
        // destructor's clean-up, which is all there is left to do.
        try {
            shut_down(*pg->backend, 0);
        } catch (...) {
        }
    }
    delete pg;
}

int32_t ct_pg_all_reduce(ct_process_group pg, const ct_tensor *handles, int64_t n, int32_t op, ct_work *out) {
    CT_GUARD({
        auto list = tensors(handles, n);
        c10d::AllreduceOptions options;
        options.reduceOp = reduce_op(op);
        auto &g = group(pg);
        auto r = route(g, list);
        *out = new_work(g, r, r.group.allreduce(list, options));
    })
}

int32_t ct_pg_broadcast(ct_process_group pg, const ct_tensor *handles, int64_t n, int32_t root, ct_work *out) {
    CT_GUARD({
        auto list = tensors(handles, n);
        c10d::BroadcastOptions options;
        options.rootRank = root;
        auto &g = group(pg);
        auto r = route(g, list);
        *out = new_work(g, r, r.group.broadcast(list, options));
    })
}

int32_t ct_pg_all_gather(ct_process_group pg, ct_tensor input, const ct_tensor *outputs, int64_t n, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> inputs{T(input)};
        std::vector<std::vector<at::Tensor>> gathered{tensors(outputs, n)};
        auto &g = group(pg);
        std::vector<at::Tensor> all = gathered[0];
        all.push_back(inputs[0]);
        auto r = route(g, all);
        *out = new_work(g, r, r.group.allgather(gathered, inputs));
    })
}

int32_t ct_pg_barrier(ct_process_group pg, ct_work *out) {
    CT_GUARD({
        auto &g = group(pg);
        auto r = route(g, {});
        *out = new_work(g, r, r.group.barrier());
    })
}

int32_t ct_pg_send(ct_process_group pg, ct_tensor t, int32_t dst, int32_t tag, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> list{T(t)};
        auto &g = group(pg);
        auto r = route(g, list);
        *out = new_work(g, r, r.group.send(list, dst, tag));
    })
}

int32_t ct_pg_recv(ct_process_group pg, ct_tensor t, int32_t src, int32_t tag, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> list{T(t)};
        auto &g = group(pg);
        auto r = route(g, list);
        *out = new_work(g, r, r.group.recv(list, src, tag));
    })
}

int32_t ct_pg_store_set(ct_process_group pg, const char *key, const char *value) {
    CT_GUARD({
        std::string text(value);
        group(pg).store->set(key, std::vector<uint8_t>(text.begin(), text.end()));
    })
}

int32_t ct_pg_store_get(ct_process_group pg, const char *key, char *buffer, int64_t capacity, int32_t *found) {
    CT_GUARD({
        auto &store = *group(pg).store;
        *found = store.check({key}) ? 1 : 0;
        if (*found == 0 || capacity < 1) return 0;
        auto value = store.get(key);
        size_t n = std::min(value.size(), static_cast<size_t>(capacity - 1));
        std::copy(value.begin(), value.begin() + n, buffer);
        buffer[n] = 0;
    })
}

int32_t ct_work_wait(ct_work w) {
    CT_GUARD({
        if (w == nullptr) throw std::invalid_argument("no work handle");
        if (w->blocking_timeout) {
            w->work->wait(*w->blocking_timeout);
        } else {
            w->work->wait();
        }
    })
}

int32_t ct_work_is_completed(ct_work w, int32_t *out) {
    CT_GUARD({
        if (w == nullptr) throw std::invalid_argument("no work handle");
        *out = w->work->isCompleted() ? 1 : 0;
    })
}

void ct_work_free(ct_work w) { delete w; }

int32_t ct_dist_sum(ct_process_group pg, ct_tensor t, ct_tensor *out) {
    CT_RETURN(DistributedSum::apply(T(t), group(pg).id))
}

int32_t ct_dist_batch_norm(ct_process_group pg, ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor running_mean,
                           ct_tensor running_var, double momentum, double eps, ct_tensor *out) {
    auto given = [](ct_tensor h) { return h ? c10::optional<at::Tensor>(h->t) : c10::nullopt; };
    CT_RETURN(DistributedBatchNorm::apply(T(x), given(weight), given(bias), given(running_mean), given(running_var), momentum,
                                          eps, group(pg).id))
}

int32_t ct_dist_gather(ct_process_group pg, ct_tensor t, ct_tensor *out) {
    CT_RETURN(DistributedGather::apply(T(t), group(pg).id))
}

} // extern "C"
