// Data-parallel collectives over c10d, the library PyTorch's DDP runs on: a TCP store
// for the rendezvous, Gloo (CPU tensors) or NCCL (CUDA tensors, CUDA builds) for the
// collectives. One process group per process, as torchrun's default group.
#include "common.h"

#include <chrono>
#include <memory>

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

Napi::Value destroyProcessGroup(const Napi::CallbackInfo& info) {
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
Napi::Value destroyProcessGroup(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value distributedBackends(const Napi::CallbackInfo& info) { return Napi::Array::New(info.Env()); }

#endif

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "initProcessGroup", initProcessGroup);
  exportFunction(env, exports, "allReduce", allReduce);
  exportFunction(env, exports, "broadcast", broadcast);
  exportFunction(env, exports, "destroyProcessGroup", destroyProcessGroup);
  exportFunction(env, exports, "distributedBackends", distributedBackends);
}

}  // namespace onevideo
