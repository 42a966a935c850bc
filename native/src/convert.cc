// Conversions between JavaScript values and libtorch IValues, driven by the
// operator schema's argument types so that one generic entry point reaches all of ATen.
#include "common.h"

#include <ATen/core/jit_type.h>

#include <cmath>

namespace onevideo {

namespace {

using c10::TypeKind;

int64_t toInt(Napi::Value value, const std::string& what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), what + ": expected an integer");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number) {
    throw Napi::TypeError::New(value.Env(), what + ": expected an integer, got " + std::to_string(number));
  }
  return static_cast<int64_t>(number);
}

double toDouble(Napi::Value value, const std::string& what) {
  if (value.IsNumber()) return value.As<Napi::Number>().DoubleValue();
  if (value.IsObject()) {  // { float: x } forces a floating-point Scalar
    Napi::Value inner = value.As<Napi::Object>().Get("float");
    if (inner.IsNumber()) return inner.As<Napi::Number>().DoubleValue();
  }
  throw Napi::TypeError::New(value.Env(), what + ": expected a number");
}

at::Scalar toScalar(Napi::Value value, const std::string& what) {
  // JavaScript cannot tell 2 from 2.0: whole numbers become integer Scalars
  // unless wrapped as { float: x }.
  if (value.IsBoolean()) return at::Scalar(value.As<Napi::Boolean>().Value());
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.007199254740992e15) {
      return at::Scalar(static_cast<int64_t>(number));
    }
    return at::Scalar(number);
  }
  return at::Scalar(toDouble(value, what));
}

c10::IValue listToIValue(Napi::Env env, Napi::Value value, const c10::TypePtr& elementType,
                         c10::optional<int32_t> fixedSize, const std::string& what) {
  TypeKind kind = elementType->kind();
  // A single number stands for a whole fixed-size list (`int[2] stride=1`) or a one-element list.
  if (value.IsNumber() && (kind == TypeKind::IntType || kind == TypeKind::SymIntType || kind == TypeKind::FloatType)) {
    size_t count = fixedSize ? static_cast<size_t>(*fixedSize) : 1;
    if (kind == TypeKind::FloatType) return c10::IValue(std::vector<double>(count, toDouble(value, what)));
    return c10::IValue(std::vector<int64_t>(count, toInt(value, what)));
  }
  if (!value.IsArray()) throw Napi::TypeError::New(env, what + ": expected an array");
  Napi::Array array = value.As<Napi::Array>();
  uint32_t length = array.Length();
  switch (kind) {
    case TypeKind::IntType:
    case TypeKind::SymIntType: {
      std::vector<int64_t> items(length);
      for (uint32_t i = 0; i < length; ++i) items[i] = toInt(array.Get(i), what);
      return c10::IValue(items);
    }
    case TypeKind::FloatType: {
      std::vector<double> items(length);
      for (uint32_t i = 0; i < length; ++i) items[i] = toDouble(array.Get(i), what);
      return c10::IValue(items);
    }
    case TypeKind::BoolType: {
      c10::List<bool> items;
      for (uint32_t i = 0; i < length; ++i) items.push_back(array.Get(i).ToBoolean().Value());
      return c10::IValue(items);
    }
    case TypeKind::TensorType: {
      c10::List<at::Tensor> items;
      items.reserve(length);
      for (uint32_t i = 0; i < length; ++i) items.push_back(unwrapTensor(array.Get(i), what));
      return c10::IValue(items);
    }
    case TypeKind::OptionalType: {  // Tensor?[] (advanced indexing)
      c10::List<c10::optional<at::Tensor>> items;
      for (uint32_t i = 0; i < length; ++i) {
        Napi::Value item = array.Get(i);
        if (item.IsNull() || item.IsUndefined()) items.push_back(c10::nullopt);
        else items.push_back(unwrapTensor(item, what));
      }
      return c10::IValue(items);
    }
    default:
      throw Napi::TypeError::New(env, what + ": lists of " + elementType->str() + " are not supported");
  }
}

c10::IValue convert(Napi::Env env, Napi::Value value, const c10::TypePtr& type, c10::optional<int32_t> fixedSize,
                    const std::string& what) {
  switch (type->kind()) {
    case TypeKind::TensorType:
      return unwrapTensor(value, what);
    case TypeKind::OptionalType:
      if (value.IsNull() || value.IsUndefined()) return c10::IValue();
      return convert(env, value, type->containedType(0), fixedSize, what);
    case TypeKind::IntType:
    case TypeKind::SymIntType:
    case TypeKind::ScalarTypeType:
    case TypeKind::LayoutType:
    case TypeKind::MemoryFormatType:
      return c10::IValue(toInt(value, what));
    case TypeKind::FloatType:
      return c10::IValue(toDouble(value, what));
    case TypeKind::BoolType:
      if (!value.IsBoolean()) throw Napi::TypeError::New(env, what + ": expected a boolean");
      return c10::IValue(value.As<Napi::Boolean>().Value());
    case TypeKind::NumberType:
      return c10::IValue(toScalar(value, what));
    case TypeKind::StringType:
      if (!value.IsString()) throw Napi::TypeError::New(env, what + ": expected a string");
      return c10::IValue(value.As<Napi::String>().Utf8Value());
    case TypeKind::DeviceObjType:
      if (!value.IsString()) throw Napi::TypeError::New(env, what + ": expected a device name such as 'cpu' or 'cuda:0'");
      return c10::IValue(c10::Device(value.As<Napi::String>().Utf8Value()));
    case TypeKind::ListType:
      return listToIValue(env, value, type->containedType(0), fixedSize, what);
    default:
      throw Napi::TypeError::New(env, what + ": arguments of type " + type->str() + " are not supported");
  }
}

}  // namespace

c10::IValue toIValue(Napi::Env env, Napi::Value value, const c10::Argument& argument) {
  return convert(env, value, argument.real_type(), argument.N(), "argument '" + argument.name() + "'");
}

std::vector<int64_t> toIntVector(Napi::Value value, const std::string& what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), what + ": expected an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> items(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) items[i] = toInt(array.Get(i), what);
  return items;
}

std::vector<at::Tensor> toTensorVector(Napi::Value value, const std::string& what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), what + ": expected an array of tensors");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<at::Tensor> items;
  items.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) items.push_back(unwrapTensor(array.Get(i), what));
  return items;
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& value) {
  if (value.isTensor()) return wrapTensor(env, value.toTensor());
  if (value.isNone()) return env.Null();
  if (value.isInt()) return Napi::Number::New(env, static_cast<double>(value.toInt()));
  if (value.isDouble()) return Napi::Number::New(env, value.toDouble());
  if (value.isBool()) return Napi::Boolean::New(env, value.toBool());
  if (value.isString()) return Napi::String::New(env, value.toStringRef());
  if (value.isTensorList()) {
    auto list = value.toTensorList();
    Napi::Array array = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) array.Set(static_cast<uint32_t>(i), wrapTensor(env, list.get(i)));
    return array;
  }
  if (value.isList()) {
    auto list = value.toListRef();
    Napi::Array array = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) array.Set(static_cast<uint32_t>(i), fromIValue(env, list[i]));
    return array;
  }
  if (value.isIntList()) {
    auto list = value.toIntVector();
    Napi::Array array = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) array.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(list[i])));
    return array;
  }
  if (value.isTuple()) {
    const auto& elements = value.toTupleRef().elements();
    Napi::Array array = Napi::Array::New(env, elements.size());
    for (size_t i = 0; i < elements.size(); ++i) array.Set(static_cast<uint32_t>(i), fromIValue(env, elements[i]));
    return array;
  }
  if (value.isDevice()) return Napi::String::New(env, value.toDevice().str());
  throw Napi::TypeError::New(env, "cannot convert a libtorch value of type " + value.tagKind() + " to JavaScript");
}

}  // namespace onevideo
