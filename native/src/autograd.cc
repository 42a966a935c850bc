// Autograd entry points: backward, grad, requires_grad, .grad, and grad mode.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

namespace onevideo {

namespace {

std::vector<at::Tensor> optionalTensorVector(Napi::Value value, const std::string& what) {
  if (value.IsNull() || value.IsUndefined()) return {};
  return toTensorVector(value, what);
}

bool flag(const Napi::CallbackInfo& info, size_t index, bool fallback) {
  return index < info.Length() && info[index].IsBoolean() ? info[index].As<Napi::Boolean>().Value() : fallback;
}

// backward(outputs[], gradients[] | null, retainGraph, createGraph)
Napi::Value backward(const Napi::CallbackInfo& info) {
  auto outputs = toTensorVector(info[0], "backward outputs");
  auto gradients = optionalTensorVector(info[1], "backward gradients");
  bool createGraph = flag(info, 3, false);
  c10::optional<bool> retainGraph;
  if (info.Length() > 2 && info[2].IsBoolean()) retainGraph = info[2].As<Napi::Boolean>().Value();
  torch::autograd::backward(outputs, gradients, retainGraph, createGraph);
  return info.Env().Undefined();
}

// grad(outputs[], inputs[], gradOutputs[] | null, retainGraph, createGraph, allowUnused) -> (Tensor | null)[]
Napi::Value grad(const Napi::CallbackInfo& info) {
  auto outputs = toTensorVector(info[0], "grad outputs");
  auto inputs = toTensorVector(info[1], "grad inputs");
  auto gradOutputs = optionalTensorVector(info[2], "grad gradOutputs");
  c10::optional<bool> retainGraph;
  if (info.Length() > 3 && info[3].IsBoolean()) retainGraph = info[3].As<Napi::Boolean>().Value();
  auto results = torch::autograd::grad(outputs, inputs, gradOutputs, retainGraph, flag(info, 4, false), flag(info, 5, false));
  Napi::Array array = Napi::Array::New(info.Env(), results.size());
  for (size_t i = 0; i < results.size(); ++i) array.Set(static_cast<uint32_t>(i), wrapTensor(info.Env(), results[i]));
  return array;
}

Napi::Value setRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor tensor = unwrapTensor(info[0], "setRequiresGrad");
  bool wanted = info[1].As<Napi::Boolean>().Value();
  // Python's check, which the C++ setter lacks.
  if (!tensor.is_leaf()) {
    throw std::runtime_error("requires_grad can only be changed on leaf tensors; use detach() to get a leaf");
  }
  if (wanted && !(at::isFloatingType(tensor.scalar_type()) || at::isComplexType(tensor.scalar_type()))) {
    throw std::runtime_error("only floating-point tensors can require gradients, not " + dtypeName(tensor.scalar_type()));
  }
  tensor.set_requires_grad(wanted);
  return info.Env().Undefined();
}

Napi::Value requiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "requiresGrad").requires_grad());
}

Napi::Value isLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "isLeaf").is_leaf());
}

Napi::Value getGrad(const Napi::CallbackInfo& info) {
  return wrapTensor(info.Env(), unwrapTensor(info[0], "grad").grad());
}

// setGrad(tensor, gradient | null): null clears it (PyTorch's zero_grad(set_to_none=True)).
Napi::Value setGrad(const Napi::CallbackInfo& info) {
  at::Tensor tensor = unwrapTensor(info[0], "setGrad");
  if (info[1].IsNull() || info[1].IsUndefined()) {
    tensor.mutable_grad() = at::Tensor();
  } else {
    tensor.mutable_grad() = unwrapTensor(info[1], "setGrad gradient");
  }
  return info.Env().Undefined();
}

Napi::Value retainGrad(const Napi::CallbackInfo& info) {
  unwrapTensor(info[0], "retainGrad").retain_grad();
  return info.Env().Undefined();
}

Napi::Value gradFnName(const Napi::CallbackInfo& info) {
  const at::Tensor& tensor = unwrapTensor(info[0], "gradFn");
  auto function = tensor.grad_fn();
  if (!function) return info.Env().Null();
  return Napi::String::New(info.Env(), function->name());
}

Napi::Value setGradEnabled(const Napi::CallbackInfo& info) {
  at::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value isGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "backward", backward);
  exportFunction(env, exports, "grad", grad);
  exportFunction(env, exports, "setRequiresGrad", setRequiresGrad);
  exportFunction(env, exports, "requiresGrad", requiresGrad);
  exportFunction(env, exports, "isLeaf", isLeaf);
  exportFunction(env, exports, "getGrad", getGrad);
  exportFunction(env, exports, "setGrad", setGrad);
  exportFunction(env, exports, "retainGrad", retainGrad);
  exportFunction(env, exports, "gradFn", gradFnName);
  exportFunction(env, exports, "setGradEnabled", setGradEnabled);
  exportFunction(env, exports, "isGradEnabled", isGradEnabled);
}

}  // namespace onevideo
