// Process-wide settings: threads, random number generators, devices, version.
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <torch/utils.h>

#if defined(ONEVIDEO_CUDA) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define ONEVIDEO_CUDA_MEMORY 1
#endif

namespace onevideo {

namespace {

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(static_cast<int>(info[0].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

Napi::Value getNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  torch::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

at::Generator defaultGenerator(const Napi::CallbackInfo& info, size_t index) {
  std::string device = index < info.Length() && info[index].IsString() ? info[index].As<Napi::String>().Utf8Value() : "cpu";
  return at::globalContext().defaultGenerator(c10::Device(device));
}

// getRngState(device = "cpu"): the default generator's state as a uint8 tensor.
Napi::Value getRngState(const Napi::CallbackInfo& info) {
  at::Generator generator = defaultGenerator(info, 0);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return wrapTensor(info.Env(), generator.get_state());
}

Napi::Value setRngState(const Napi::CallbackInfo& info) {
  const at::Tensor& state = unwrapTensor(info[0], "setRngState");
  at::Generator generator = defaultGenerator(info, 1);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
  return info.Env().Undefined();
}

Napi::Value cudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value cudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}

int cudaIndex(const Napi::CallbackInfo& info) {
  std::string device = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cuda";
  c10::Device parsed(device);
  return parsed.has_index() ? parsed.index() : 0;
}

// cudaMaxMemoryAllocated(device): the caching allocator's peak of bytes in tensors
// (torch.cuda.max_memory_allocated); 0 in a build without CUDA.
Napi::Value cudaMaxMemoryAllocated(const Napi::CallbackInfo& info) {
#ifdef ONEVIDEO_CUDA_MEMORY
  if (torch::cuda::is_available()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(cudaIndex(info)));
    auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    return Napi::Number::New(info.Env(), static_cast<double>(stats.allocated_bytes[aggregate].peak));
  }
#endif
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value cudaResetPeakMemoryStats(const Napi::CallbackInfo& info) {
#ifdef ONEVIDEO_CUDA_MEMORY
  if (torch::cuda::is_available()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(cudaIndex(info)));
  }
#endif
  return info.Env().Undefined();
}

Napi::Value version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TORCH_VERSION);
}

Napi::Value buildConfig(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::show_config());
}

}  // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "setNumThreads", setNumThreads);
  exportFunction(env, exports, "getNumThreads", getNumThreads);
  exportFunction(env, exports, "manualSeed", manualSeed);
  exportFunction(env, exports, "getRngState", getRngState);
  exportFunction(env, exports, "setRngState", setRngState);
  exportFunction(env, exports, "cudaAvailable", cudaAvailable);
  exportFunction(env, exports, "cudaDeviceCount", cudaDeviceCount);
  exportFunction(env, exports, "cudaSynchronize", cudaSynchronize);
  exportFunction(env, exports, "cudaMaxMemoryAllocated", cudaMaxMemoryAllocated);
  exportFunction(env, exports, "cudaResetPeakMemoryStats", cudaResetPeakMemoryStats);
  exportFunction(env, exports, "version", version);
  exportFunction(env, exports, "buildConfig", buildConfig);
}

}  // namespace onevideo
