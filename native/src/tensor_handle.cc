// The JavaScript handle of a tensor: an N-API external that owns one at::Tensor.
// The finalizer frees it when the handle is collected, V8 is told its size so that
// the collector runs when tensors pile up, and dispose() frees it at once.
#include "common.h"

#include <cstring>
#include <sstream>

namespace onevideo {

namespace {

struct TensorBox {
  at::Tensor tensor;
  int64_t accountedBytes = 0;
};

// Marks externals made by this addon so that a foreign object is never cast to a TensorBox.
const napi_type_tag kTensorTag = {0x6f6e65766964656fULL, 0x74656e736f720001ULL};

// Tensors held by live, undisposed handles: the leak tests read it.
int64_t liveTensorCount = 0;

int64_t hostBytes(const at::Tensor& tensor) {
  // Only host memory is worth reporting to V8's collector.
  return tensor.device().is_cpu() ? static_cast<int64_t>(tensor.nbytes()) : 0;
}

void release(Napi::Env env, TensorBox* box) {
  if (box->tensor.defined()) --liveTensorCount;
  if (box->accountedBytes != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -box->accountedBytes);
    box->accountedBytes = 0;
  }
  box->tensor.reset();
}

TensorBox* unwrapBox(Napi::Value value, const std::string& what) {
  Napi::Env env = value.Env();
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, what + ": expected a tensor");
  return value.As<Napi::External<TensorBox>>().Data();
}

}  // namespace

std::string dtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(type);
  }
}

std::string describeTensor(const at::Tensor& tensor) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < tensor.sizes().size(); ++i) out << (i ? "," : "") << tensor.sizes()[i];
  out << "] " << dtypeName(tensor.scalar_type());
  if (!tensor.device().is_cpu()) out << " " << tensor.device().str();
  return out.str();
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* box = new TensorBox{std::move(tensor), 0};
  ++liveTensorCount;
  box->accountedBytes = hostBytes(box->tensor);
  auto handle = Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* box) {
    release(env, box);
    delete box;
  });
  napi_type_tag_object(env, handle, &kTensorTag);
  if (box->accountedBytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, box->accountedBytes);
  return handle;
}

bool isTensorHandle(Napi::Env env, Napi::Value value) {
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  return tagged;
}

const at::Tensor& unwrapTensor(Napi::Value value, const std::string& what) {
  TensorBox* box = unwrapBox(value, what);
  if (!box->tensor.defined()) {
    throw Napi::Error::New(value.Env(), what + ": this tensor was disposed and cannot be used any more");
  }
  return box->tensor;
}

namespace {

at::ScalarType scalarTypeFromInt(Napi::Value value) {
  int64_t code = value.As<Napi::Number>().Int64Value();
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) {
    throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

Napi::Value dispose(const Napi::CallbackInfo& info) {
  TensorBox* box = unwrapBox(info[0], "dispose");
  release(info.Env(), box);
  return info.Env().Undefined();
}

Napi::Value isDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !unwrapBox(info[0], "isDisposed")->tensor.defined());
}

Napi::Value shape(const Napi::CallbackInfo& info) {
  const at::Tensor& tensor = unwrapTensor(info[0], "shape");
  auto sizes = tensor.sizes();
  Napi::Array result = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) result.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  return result;
}

Napi::Value dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(unwrapTensor(info[0], "dtype").scalar_type()));
}

Napi::Value device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), unwrapTensor(info[0], "device").device().str());
}

// fromBuffer(typedArray, shape, dtypeCode): a new CPU tensor holding a copy of the bytes.
Napi::Value fromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromBuffer: expected a TypedArray");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> sizes = toIntVector(info[1], "fromBuffer shape");
  at::ScalarType type = scalarTypeFromInt(info[2]);
  at::Tensor tensor = at::empty(sizes, at::TensorOptions().dtype(type));
  size_t byteLength = array.ByteLength();
  if (byteLength != tensor.nbytes()) {
    throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(byteLength) + " bytes given, shape " +
                                         describeTensor(tensor) + " needs " + std::to_string(tensor.nbytes()));
  }
  auto* source = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  if (byteLength) std::memcpy(tensor.data_ptr(), source, byteLength);
  return wrapTensor(env, std::move(tensor));
}

// toBuffer(tensor): an ArrayBuffer with a copy of the tensor's elements, contiguous, row-major.
Napi::Value toBuffer(const Napi::CallbackInfo& info) {
  at::Tensor tensor = unwrapTensor(info[0], "toBuffer").detach().to(at::kCPU).contiguous();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), tensor.nbytes());
  if (tensor.nbytes()) std::memcpy(buffer.Data(), tensor.data_ptr(), tensor.nbytes());
  return buffer;
}

Napi::Value liveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(liveTensorCount));
}

Napi::Value describe(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), describeTensor(unwrapTensor(info[0], "describe")));
}

}  // namespace

void registerTensorHandle(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "dispose", dispose);
  exportFunction(env, exports, "isDisposed", isDisposed);
  exportFunction(env, exports, "shape", shape);
  exportFunction(env, exports, "dtype", dtype);
  exportFunction(env, exports, "device", device);
  exportFunction(env, exports, "fromBuffer", fromBuffer);
  exportFunction(env, exports, "toBuffer", toBuffer);
  exportFunction(env, exports, "describe", describe);
  exportFunction(env, exports, "liveTensors", liveTensors);
}

}  // namespace onevideo
