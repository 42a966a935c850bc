// The JavaScript handle of a tensor: an N-API external holding a slot id, not a pointer.
// Slots live in a table; dispose() frees a slot at once and bumps its generation, so a
// stale handle is recognised and never reaches a tensor that reused the slot. Handles
// carry no N-API finalizer: Node runs those only between event-loop turns, and a
// synchronous training loop would pile them up. The TypeScript side frees the tensors
// it never disposed through a FinalizationRegistry instead. V8 is told each tensor's size
// so that such garbage is collected when tensors pile up.
#include "common.h"

#include <cstring>
#include <sstream>

namespace onevideo {

namespace {

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  int64_t accountedBytes = 0;
};

std::vector<Slot> slots;
std::vector<uint32_t> freeSlots;

// Marks externals made by this addon so that a foreign object is never read as a slot id.
const napi_type_tag kTensorTag = {0x6f6e65766964656fULL, 0x74656e736f720002ULL};

int64_t hostBytes(const at::Tensor& tensor) {
  // Only host memory is worth reporting to V8's collector.
  return tensor.device().is_cpu() ? static_cast<int64_t>(tensor.nbytes()) : 0;
}

uint64_t slotId(Napi::Value value, const std::string& what) {
  Napi::Env env = value.Env();
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  if (!tagged) throw Napi::TypeError::New(env, what + ": expected a tensor");
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(value.As<Napi::External<void>>().Data()));
}

// The live slot a handle names, or nullptr when it was disposed.
Slot* liveSlot(uint64_t id) {
  uint32_t index = static_cast<uint32_t>(id & 0xffffffffu);
  uint32_t generation = static_cast<uint32_t>(id >> 32);
  if (index >= slots.size()) return nullptr;
  Slot& slot = slots[index];
  return slot.generation == generation && slot.tensor.defined() ? &slot : nullptr;
}

void release(Napi::Env env, uint32_t index) {
  Slot& slot = slots[index];
  if (slot.accountedBytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -slot.accountedBytes);
  slot.accountedBytes = 0;
  slot.tensor.reset();
  ++slot.generation;
  freeSlots.push_back(index);
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
  uint32_t index;
  if (freeSlots.empty()) {
    if (slots.size() >= 0xffffffffu) throw Napi::Error::New(env, "too many live tensors");
    index = static_cast<uint32_t>(slots.size());
    slots.emplace_back();
  } else {
    index = freeSlots.back();
    freeSlots.pop_back();
  }
  Slot& slot = slots[index];
  slot.accountedBytes = hostBytes(tensor);
  slot.tensor = std::move(tensor);
  uint64_t id = (static_cast<uint64_t>(slot.generation) << 32) | index;
  auto handle = Napi::External<void>::New(env, reinterpret_cast<void*>(static_cast<uintptr_t>(id)));
  napi_type_tag_object(env, handle, &kTensorTag);
  if (slot.accountedBytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, slot.accountedBytes);
  return handle;
}

bool isTensorHandle(Napi::Env env, Napi::Value value) {
  bool tagged = false;
  if (value.IsExternal()) napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  return tagged;
}

const at::Tensor& unwrapTensor(Napi::Value value, const std::string& what) {
  Slot* slot = liveSlot(slotId(value, what));
  if (slot == nullptr) {
    throw Napi::Error::New(value.Env(), what + ": this tensor was disposed and cannot be used any more");
  }
  return slot->tensor;
}

namespace {

at::ScalarType scalarTypeFromInt(Napi::Value value) {
  int64_t code = value.As<Napi::Number>().Int64Value();
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) {
    throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

// dispose(handle): frees the tensor; a handle already disposed is left alone.
Napi::Value dispose(const Napi::CallbackInfo& info) {
  uint64_t id = slotId(info[0], "dispose");
  if (liveSlot(id) != nullptr) release(info.Env(), static_cast<uint32_t>(id & 0xffffffffu));
  return info.Env().Undefined();
}

Napi::Value isDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), liveSlot(slotId(info[0], "isDisposed")) == nullptr);
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

// Tensors held by live handles: the leak tests read it.
Napi::Value liveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(slots.size() - freeSlots.size()));
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
