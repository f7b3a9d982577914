// Distributed: libtorch's own c10d process groups (Gloo), rendezvous through a TCPStore.
//
// ProcessGroupGloo derives from c10d::ProcessGroup in 1.13 and from c10d::Backend in 2.x;
// both declare the same collectives, so the bridge holds the concrete Gloo group.
#include "bridge.hpp"
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>

struct ct_process_group_s {
    // The rendezvous store, under a prefix of its own: a launcher's store (torchrun's agent)
    // holds keys of its own.
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
    int32_t rank;
    int32_t world_size;
    int64_t id;
};

struct ct_work_s {
    c10::intrusive_ptr<c10d::Work> work;
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

at::Tensor all_reduce_sum(ct_process_group_s &pg, const at::Tensor &x) {
    std::vector<at::Tensor> tensors{x.contiguous().clone()};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    pg.gloo->allreduce(tensors, options)->wait();
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
        pg.gloo->allgather(outputs, input)->wait();
        return at::cat(outputs[0], 0);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        auto &pg = registered(ctx->saved_data["group"].toInt());
        int64_t rows = ctx->saved_data["rows"].toInt();
        return {all_reduce_sum(pg, grads[0]).narrow(0, pg.rank * rows, rows), at::Tensor()};
    }
};

ct_work new_work(c10::intrusive_ptr<c10d::Work> work) { return new ct_work_s{std::move(work)}; }

std::vector<at::Tensor> tensors(const ct_tensor *handles, int64_t n) {
    std::vector<at::Tensor> result;
    for (int64_t i = 0; i < n; ++i) result.push_back(T(handles[i]));
    return result;
}

} // namespace

extern "C" {

int32_t ct_dist_backend_available(int32_t backend) { return backend == CT_BACKEND_GLOO ? 1 : 0; }

int32_t ct_pg_new(const char *host, int32_t port, int32_t rank, int32_t world_size, int32_t backend,
                  int64_t timeout_ms, int32_t serve_store, ct_process_group *out) {
    CT_GUARD({
        if (backend != CT_BACKEND_GLOO) throw std::invalid_argument("this libtorch build has no NCCL process group");
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
        auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
        auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, gloo_options);
        auto *pg = new ct_process_group_s{store, gloo, rank, world_size, next_id++};
        std::lock_guard<std::mutex> lock(registry_mutex);
        registry[pg->id] = pg;
        *out = pg;
    })
}

void ct_pg_free(ct_process_group pg) {
    if (pg == nullptr) return;
    {
        std::lock_guard<std::mutex> lock(registry_mutex);
        registry.erase(pg->id);
    }
    delete pg;
}

int32_t ct_pg_all_reduce(ct_process_group pg, const ct_tensor *handles, int64_t n, int32_t op, ct_work *out) {
    CT_GUARD({
        auto list = tensors(handles, n);
        c10d::AllreduceOptions options;
        options.reduceOp = reduce_op(op);
        *out = new_work(group(pg).gloo->allreduce(list, options));
    })
}

int32_t ct_pg_broadcast(ct_process_group pg, const ct_tensor *handles, int64_t n, int32_t root, ct_work *out) {
    CT_GUARD({
        auto list = tensors(handles, n);
        c10d::BroadcastOptions options;
        options.rootRank = root;
        *out = new_work(group(pg).gloo->broadcast(list, options));
    })
}

int32_t ct_pg_all_gather(ct_process_group pg, ct_tensor input, const ct_tensor *outputs, int64_t n, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> inputs{T(input)};
        std::vector<std::vector<at::Tensor>> gathered{tensors(outputs, n)};
        *out = new_work(group(pg).gloo->allgather(gathered, inputs));
    })
}

int32_t ct_pg_barrier(ct_process_group pg, ct_work *out) {
    CT_GUARD(*out = new_work(group(pg).gloo->barrier()))
}

int32_t ct_pg_send(ct_process_group pg, ct_tensor t, int32_t dst, int32_t tag, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> list{T(t)};
        *out = new_work(group(pg).gloo->send(list, dst, tag));
    })
}

int32_t ct_pg_recv(ct_process_group pg, ct_tensor t, int32_t src, int32_t tag, ct_work *out) {
    CT_GUARD({
        std::vector<at::Tensor> list{T(t)};
        *out = new_work(group(pg).gloo->recv(list, src, tag));
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
        w->work->wait();
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

int32_t ct_dist_gather(ct_process_group pg, ct_tensor t, ct_tensor *out) {
    CT_RETURN(DistributedGather::apply(T(t), group(pg).id))
}

} // extern "C"
