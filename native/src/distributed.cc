// Data-parallel collectives over c10d, the library PyTorch's DDP runs on: a TCP store
// for the rendezvous, Gloo (CPU tensors) or NCCL (CUDA tensors, CUDA builds) for the
// collectives. One process group per process, as torchrun's default group.
#include "common.h"

#include <chrono>
#include <memory>
#include <mutex>

#if __has_include(<gloo/context.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#define ONEVIDEO_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(ONEVIDEO_NCCL) && __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#undef ONEVIDEO_NCCL
#endif
#if defined(ONEVIDEO_GLOO) || defined(ONEVIDEO_NCCL)
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace onevideo {

namespace {

#if defined(ONEVIDEO_GLOO) || defined(ONEVIDEO_NCCL)

// The collectives the training loop uses, whichever backend runs them (Gloo and NCCL
// share no base class across libtorch 1.13 and 2.x, so each is held by lambdas).
struct Group {
  std::string backend;
  int rank = 0;
  int worldSize = 1;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&, const c10d::AllreduceOptions&)> allreduce;
  std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&, const c10d::BroadcastOptions&)> broadcast;
  std::function<void()> release;
};

std::unique_ptr<Group> group;

Group& requireGroup(const char* what) {
  if (!group) throw std::runtime_error(std::string(what) + ": no process group; call initProcessGroup first");
  return *group;
}

std::string stringField(const Napi::Object& options, const char* key) {
  return options.Get(key).As<Napi::String>().Utf8Value();
}

int intField(const Napi::Object& options, const char* key) {
  return options.Get(key).As<Napi::Number>().Int32Value();
}

// The network device Gloo binds: GLOO_SOCKET_IFNAME as torch does, loopback for a
// local job, else the address the host name resolves to.
#ifdef ONEVIDEO_GLOO
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& masterAddr) {
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (masterAddr == "localhost" || masterAddr.rfind("127.", 0) == 0) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// initProcessGroup({ backend, masterAddr, masterPort, rank, worldSize, timeoutMs })
Napi::Value initProcessGroup(const Napi::CallbackInfo& info) {
  if (group) throw std::runtime_error("a process group already exists in this process");
  Napi::Object options = info[0].As<Napi::Object>();
  auto backend = stringField(options, "backend");
  auto masterAddr = stringField(options, "masterAddr");
  int rank = intField(options, "rank");
  int worldSize = intField(options, "worldSize");
  std::chrono::milliseconds timeout(options.Get("timeoutMs").As<Napi::Number>().Int64Value());

  c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<std::uint16_t>(intField(options, "masterPort"));
  storeOptions.isServer = rank == 0;
  storeOptions.numWorkers = worldSize;
  storeOptions.waitWorkers = true;
  storeOptions.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>(masterAddr, storeOptions);

  auto created = std::make_unique<Group>();
  created->backend = backend;
  created->rank = rank;
  created->worldSize = worldSize;
  created->timeout = timeout;
  created->store = store;
  if (backend == "gloo") {
#ifdef ONEVIDEO_GLOO
    auto glooOptions = c10d::ProcessGroupGloo::Options::create(timeout);
    glooOptions->devices.push_back(glooDevice(masterAddr));
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, worldSize, glooOptions);
    created->allreduce = [pg](std::vector<at::Tensor>& t, const c10d::AllreduceOptions& o) { return pg->allreduce(t, o); };
    created->broadcast = [pg](std::vector<at::Tensor>& t, const c10d::BroadcastOptions& o) { return pg->broadcast(t, o); };
    created->release = [pg]() mutable { pg.reset(); };
#else
    throw std::runtime_error("this libtorch build has no Gloo headers; install libgloo-dev and rebuild (npm run build:native)");
#endif
  } else if (backend == "nccl") {
#ifdef ONEVIDEO_NCCL
    auto ncclOptions = c10d::ProcessGroupNCCL::Options::create();
    ncclOptions->timeout = timeout;
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, worldSize, ncclOptions);
    created->allreduce = [pg](std::vector<at::Tensor>& t, const c10d::AllreduceOptions& o) { return pg->allreduce(t, o); };
    created->broadcast = [pg](std::vector<at::Tensor>& t, const c10d::BroadcastOptions& o) { return pg->broadcast(t, o); };
    created->release = [pg]() mutable { pg.reset(); };
#else
    throw std::runtime_error("this addon was built without NCCL; build against a CUDA libtorch (LIBTORCH=...) or use --backend gloo");
#endif
  } else {
    throw std::runtime_error("unknown backend '" + backend + "'; use gloo or nccl");
  }
  group = std::move(created);
  return info.Env().Undefined();
}

c10d::ReduceOp reduceOp(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  throw std::runtime_error("unknown reduce op '" + name + "'; use sum, max or min");
}

// Launches every collective first, then waits for all: the backend runs them
// concurrently on its own threads (Gloo) or streams (NCCL).
void waitAll(Group& g, std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  for (auto& work : works) work->wait(g.timeout);
}

// allReduce(tensors[], op): in place, each tensor reduced across ranks.
Napi::Value allReduce(const Napi::CallbackInfo& info) {
  Group& g = requireGroup("allReduce");
  auto tensors = toTensorVector(info[0], "allReduce tensors");
  c10d::AllreduceOptions options;
  options.reduceOp = reduceOp(info[1].As<Napi::String>().Utf8Value());
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  works.reserve(tensors.size());
  for (auto& tensor : tensors) {
    std::vector<at::Tensor> one{tensor};
    works.push_back(g.allreduce(one, options));
  }
  waitAll(g, works);
  return info.Env().Undefined();
}

// broadcast(tensors[], root): in place, every rank receives root's values.
Napi::Value broadcast(const Napi::CallbackInfo& info) {
  Group& g = requireGroup("broadcast");
  auto tensors = toTensorVector(info[0], "broadcast tensors");
  c10d::BroadcastOptions options;
  options.rootRank = info[1].As<Napi::Number>().Int32Value();
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& tensor : tensors) {
    std::vector<at::Tensor> one{tensor};
    works.push_back(g.broadcast(one, options));
  }
  waitAll(g, works);
  return info.Env().Undefined();
}

// ---- gradient averaging overlapped with backward, as DDP's reducer ----
//
// A hook on each parameter's gradient accumulator marks its gradient ready; the moment
// a bucket's last gradient is in, the bucket is flattened and its all-reduce launched,
// while backward goes on with the layers below. Buckets launch in a fixed order (the
// same on every rank, as collectives must be issued), so a bucket that fills early waits
// for the ones before it. What backward never reached is launched when it ends.
struct Reducer {
  std::vector<at::Tensor> params;
  // A parameter holds its accumulator only weakly: kept here, our hooks stay on it.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  std::vector<std::vector<size_t>> buckets;  // parameter indices, in reverse parameter order
  std::vector<size_t> bucketOf;
  // Per backward: gradients each bucket still waits for, and what was launched.
  std::vector<size_t> waiting;
  std::vector<at::Tensor> flats;
  std::vector<std::vector<size_t>> members;  // the parameters whose gradients each flat holds
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  size_t launchedDuringBackward = 0;
  bool armed = false;
  std::mutex mutex;
};

std::shared_ptr<Reducer> reducer;

// Flattens bucket b's gradients (those that exist) and starts their sum across ranks.
void launchBucket(Reducer& r, size_t b) {
  std::vector<at::Tensor> pieces;
  for (size_t i : r.buckets[b]) {
    const at::Tensor& gradient = r.params[i].grad();
    if (!gradient.defined()) continue;
    pieces.push_back(gradient.reshape({-1}));
    r.members[b].push_back(i);
  }
  if (pieces.empty()) return;
  r.flats[b] = at::cat(pieces);
  std::vector<at::Tensor> one{r.flats[b]};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  r.works[b] = group->allreduce(one, options);
}

void launchReadyBuckets(Reducer& r) {
  while (r.next < r.buckets.size() && r.waiting[r.next] == 0) launchBucket(r, r.next++);
}

std::shared_ptr<Reducer> buildReducer(const std::vector<at::Tensor>& params, int64_t bucketBytes) {
  auto r = std::make_shared<Reducer>();
  std::weak_ptr<Reducer> weak = r;
  for (const auto& param : params) {
    if (!param.requires_grad()) continue;
    size_t index = r->params.size();
    r->params.push_back(param);
    auto accumulator = torch::autograd::impl::grad_accumulator(param);
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, index](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto owner = weak.lock()) {
            std::lock_guard<std::mutex> lock(owner->mutex);
            size_t b = owner->bucketOf[index];
            if (owner->armed && owner->waiting[b] > 0 && --owner->waiting[b] == 0) {
              size_t before = owner->next;
              launchReadyBuckets(*owner);
              owner->launchedDuringBackward += owner->next - before;
            }
          }
          return outputs;
        }));
    r->accumulators.push_back(std::move(accumulator));
  }
  // Reverse order, as backward produces the gradients; one dtype and device per bucket.
  r->bucketOf.resize(r->params.size());
  int64_t bytes = 0;
  for (size_t k = r->params.size(); k-- > 0;) {
    const auto& param = r->params[k];
    int64_t size = param.numel() * static_cast<int64_t>(param.element_size());
    bool fresh = r->buckets.empty();
    if (!fresh) {
      const auto& last = r->params[r->buckets.back().back()];
      fresh = last.scalar_type() != param.scalar_type() || last.device() != param.device() || bytes + size > bucketBytes;
    }
    if (fresh) {
      r->buckets.emplace_back();
      bytes = 0;
    }
    r->buckets.back().push_back(k);
    r->bucketOf[k] = r->buckets.size() - 1;
    bytes += size;
  }
  return r;
}

bool sameParameters(const Reducer& r, const std::vector<at::Tensor>& params) {
  std::vector<const c10::TensorImpl*> wanted;
  for (const auto& param : params)
    if (param.requires_grad()) wanted.push_back(param.unsafeGetTensorImpl());
  if (wanted.size() != r.params.size()) return false;
  for (size_t i = 0; i < wanted.size(); i++)
    if (wanted[i] != r.params[i].unsafeGetTensorImpl()) return false;
  return true;
}

// armGradientAverage(params[], bucketBytes): the next backward launches buckets as they fill.
Napi::Value armGradientAverage(const Napi::CallbackInfo& info) {
  requireGroup("armGradientAverage");
  auto params = toTensorVector(info[0], "armGradientAverage parameters");
  int64_t bucketBytes = info[1].As<Napi::Number>().Int64Value();
  if (!reducer || !sameParameters(*reducer, params)) reducer = buildReducer(params, bucketBytes);
  std::lock_guard<std::mutex> lock(reducer->mutex);
  Reducer& r = *reducer;
  size_t count = r.buckets.size();
  r.waiting.assign(count, 0);
  for (size_t b = 0; b < count; b++) r.waiting[b] = r.buckets[b].size();
  r.flats.assign(count, at::Tensor());
  r.members.assign(count, {});
  r.works.assign(count, {});
  r.next = 0;
  r.launchedDuringBackward = 0;
  r.armed = true;
  return info.Env().Undefined();
}

// finishGradientAverage() -> [buckets, launched during backward]: launches what backward
// left, waits for every bucket, and writes the mean over ranks back into the gradients.
Napi::Value finishGradientAverage(const Napi::CallbackInfo& info) {
  Group& g = requireGroup("finishGradientAverage");
  if (!reducer || !reducer->armed) throw std::runtime_error("finishGradientAverage: call armGradientAverage first");
  Reducer& r = *reducer;
  std::lock_guard<std::mutex> lock(r.mutex);
  r.armed = false;
  while (r.next < r.buckets.size()) launchBucket(r, r.next++);
  at::NoGradGuard noGrad;
  for (size_t b = 0; b < r.buckets.size(); b++) {
    if (!r.works[b]) continue;
    r.works[b]->wait(g.timeout);
    r.flats[b].div_(g.worldSize);
    int64_t offset = 0;
    for (size_t i : r.members[b]) {
      at::Tensor gradient = r.params[i].mutable_grad();
      int64_t count = gradient.numel();
      gradient.copy_(r.flats[b].narrow(0, offset, count).view(gradient.sizes()));
      offset += count;
    }
  }
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(r.buckets.size())));
  result.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(r.launchedDuringBackward)));
  r.flats.assign(r.buckets.size(), at::Tensor());
  r.works.assign(r.buckets.size(), {});
  return result;
}

Napi::Value destroyProcessGroup(const Napi::CallbackInfo& info) {
  reducer.reset();
  if (group) {
    group->release();
    group.reset();
  }
  return info.Env().Undefined();
}

Napi::Value distributedBackends(const Napi::CallbackInfo& info) {
  Napi::Array backends = Napi::Array::New(info.Env());
  uint32_t count = 0;
#ifdef ONEVIDEO_GLOO
  backends.Set(count++, Napi::String::New(info.Env(), "gloo"));
#endif
#ifdef ONEVIDEO_NCCL
  backends.Set(count++, Napi::String::New(info.Env(), "nccl"));
#endif
  return backends;
}

#else  // no c10d backend in this build

Napi::Value unavailable(const Napi::CallbackInfo&) {
  throw std::runtime_error("this addon was built without c10d backends; install libgloo-dev and rebuild (npm run build:native)");
}
Napi::Value initProcessGroup(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value allReduce(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value broadcast(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value armGradientAverage(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value finishGradientAverage(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value destroyProcessGroup(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value distributedBackends(const Napi::CallbackInfo& info) { return Napi::Array::New(info.Env()); }

#endif

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "initProcessGroup", initProcessGroup);
  exportFunction(env, exports, "allReduce", allReduce);
  exportFunction(env, exports, "broadcast", broadcast);
  exportFunction(env, exports, "armGradientAverage", armGradientAverage);
  exportFunction(env, exports, "finishGradientAverage", finishGradientAverage);
  exportFunction(env, exports, "destroyProcessGroup", destroyProcessGroup);
  exportFunction(env, exports, "distributedBackends", distributedBackends);
}

}  // namespace onevideo
