// Autocast (mixed precision) as torch.autocast sets it: a per-device switch and dtype
// that the dispatcher's Autocast keys read, so every op called inside runs its
// matmuls and convolutions in the lower precision and its reductions in fp32.
#include "common.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

// libtorch 2.4 folded the per-device functions into ones that take the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define ONEVIDEO_AUTOCAST_BY_DEVICE 1
#endif

namespace onevideo {

namespace {

at::DeviceType autocastDevice(const Napi::Value& value) {
  std::string name = value.As<Napi::String>().Utf8Value();
  if (name == "cpu") return at::kCPU;
  if (name == "cuda") return at::kCUDA;
  throw std::runtime_error("autocast device must be cpu or cuda, not '" + name + "'");
}

bool isEnabled(at::DeviceType device) {
#ifdef ONEVIDEO_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(device);
#else
  return device == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

at::ScalarType dtypeOf(at::DeviceType device) {
#ifdef ONEVIDEO_AUTOCAST_BY_DEVICE
  return at::autocast::get_autocast_dtype(device);
#else
  return device == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void setState(at::DeviceType device, bool enabled, at::ScalarType dtype) {
#ifdef ONEVIDEO_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == at::kCPU) {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

// autocastEnter(device, dtype) -> [wasEnabled, previousDtype]
Napi::Value autocastEnter(const Napi::CallbackInfo& info) {
  at::DeviceType device = autocastDevice(info[0]);
  auto dtype = static_cast<at::ScalarType>(info[1].As<Napi::Number>().Int32Value());
  Napi::Array previous = Napi::Array::New(info.Env(), 2);
  previous.Set(0u, Napi::Boolean::New(info.Env(), isEnabled(device)));
  previous.Set(1u, Napi::Number::New(info.Env(), static_cast<int>(dtypeOf(device))));
  setState(device, true, dtype);
  at::autocast::increment_nesting();
  return previous;
}

// autocastExit(device, wasEnabled, previousDtype): restores the state; the cache of
// low-precision weight copies is dropped when the outermost region ends, as in Python.
Napi::Value autocastExit(const Napi::CallbackInfo& info) {
  at::DeviceType device = autocastDevice(info[0]);
  bool wasEnabled = info[1].As<Napi::Boolean>().Value();
  auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setState(device, wasEnabled, dtype);
  return info.Env().Undefined();
}

}  // namespace

void registerAutocast(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "autocastEnter", autocastEnter);
  exportFunction(env, exports, "autocastExit", autocastExit);
}

}  // namespace onevideo
