// Shared declarations of the onevideo addon.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/core/function_schema.h>
#include <ATen/core/ivalue.h>
#include <ATen/core/stack.h>

#include <functional>
#include <string>

namespace onevideo {

// --- tensor handles (tensor_handle.cc) ---
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
bool isTensorHandle(Napi::Env env, Napi::Value value);
// Throws a JS TypeError naming `what` when the value is not a live tensor handle.
const at::Tensor& unwrapTensor(Napi::Value value, const std::string& what);
std::string describeTensor(const at::Tensor& tensor);
std::string dtypeName(at::ScalarType type);

// --- conversions (convert.cc) ---
c10::IValue toIValue(Napi::Env env, Napi::Value value, const c10::Argument& argument);
Napi::Value fromIValue(Napi::Env env, const c10::IValue& value);
std::vector<int64_t> toIntVector(Napi::Value value, const std::string& what);
std::vector<at::Tensor> toTensorVector(Napi::Value value, const std::string& what);

// --- exporting functions with uniform error translation (addon.cc) ---
using NativeFunction = std::function<Napi::Value(const Napi::CallbackInfo&)>;
void exportFunction(Napi::Env env, Napi::Object exports, const char* name, NativeFunction fn);
// The message of a libtorch error without its C++ backtrace.
std::string torchMessage(const c10::Error& error);

void registerTensorHandle(Napi::Env env, Napi::Object exports);
void registerOpCall(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
void registerAutocast(Napi::Env env, Napi::Object exports);
void registerStopSignals(Napi::Env env, Napi::Object exports);

}  // namespace onevideo
