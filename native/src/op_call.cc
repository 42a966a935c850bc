// One generic entry point to every ATen operator: look an operator up once by its
// schema name, then call it with JavaScript arguments converted by the schema's
// types. The call goes through the dispatcher's autograd key, so graphs are recorded.
#include "common.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <deque>
#include <sstream>

namespace onevideo {

namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string label;  // "aten::add.Tensor"
  bool writesFirstArgument;  // in-place and out= operators: Tensor(a!) self
};

// A deque keeps references stable while entries are appended.
std::deque<OpEntry>& registry() {
  static std::deque<OpEntry> entries;
  return entries;
}

// resolveOp("aten::add", "Tensor") -> id for callOp.
Napi::Value resolveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::string label = overload.empty() ? name : name + "." + overload;
  auto& entries = registry();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].label == label) return Napi::Number::New(env, static_cast<double>(i));
  }
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) throw Napi::Error::New(env, "unknown operator " + label + ": no such schema in this libtorch");
  const auto& arguments = handle->schema().arguments();
  bool writes = !arguments.empty() && arguments[0].alias_info() != nullptr && arguments[0].alias_info()->isWrite();
  entries.push_back({*handle, label, writes});
  return Napi::Number::New(env, static_cast<double>(entries.size() - 1));
}

std::string describeArguments(Napi::Env env, const Napi::CallbackInfo& info) {
  std::ostringstream out;
  for (size_t i = 1; i < info.Length(); ++i) {
    if (i > 1) out << ", ";
    Napi::Value value = info[i];
    if (isTensorHandle(env, value)) {
      try {
        out << describeTensor(unwrapTensor(value, ""));
      } catch (...) {
        out << "<disposed tensor>";
      }
    } else if (value.IsArray()) {
      out << "list(" << value.As<Napi::Array>().Length() << ")";
    } else if (value.IsNumber() || value.IsBoolean() || value.IsString()) {
      out << value.ToString().Utf8Value();
    } else if (value.IsNull() || value.IsUndefined()) {
      out << "None";
    } else {
      out << "?";
    }
  }
  return out.str();
}

// callOp(id, ...args): undefined arguments take the schema's default.
Napi::Value callOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& entries = registry();
  size_t id = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  if (id >= entries.size()) throw Napi::Error::New(env, "callOp: unknown operator id");
  const OpEntry& entry = entries[id];
  const auto& schema = entry.handle.schema();
  const auto& arguments = schema.arguments();
  size_t given = info.Length() - 1;
  if (given > arguments.size()) {
    throw Napi::Error::New(env, entry.label + ": takes " + std::to_string(arguments.size()) + " arguments, " +
                                    std::to_string(given) + " given");
  }
  torch::jit::Stack stack;
  stack.reserve(arguments.size());
  try {
    for (size_t i = 0; i < arguments.size(); ++i) {
      const c10::Argument& argument = arguments[i];
      Napi::Value value = i < given ? info[i + 1] : env.Undefined();
      if (value.IsUndefined()) {
        if (argument.default_value()) {
          stack.push_back(*argument.default_value());
          continue;
        }
        if (argument.type()->kind() == c10::TypeKind::OptionalType) {
          stack.emplace_back();
          continue;
        }
        throw Napi::TypeError::New(env, "missing argument '" + argument.name() + "'");
      }
      stack.push_back(toIValue(env, value, argument));
    }
    entry.handle.callBoxed(&stack);
  } catch (const Napi::Error& error) {
    throw Napi::Error::New(env, entry.label + ": " + error.Message() + " (arguments: " + describeArguments(env, info) + ")");
  } catch (const c10::Error& error) {
    throw Napi::Error::New(env, entry.label + ": " + torchMessage(error) + " (arguments: " + describeArguments(env, info) + ")");
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, entry.label + ": " + error.what() + " (arguments: " + describeArguments(env, info) + ")");
  }
  if (stack.size() == 1) {
    // In-place and out= operators return their argument: hand back the caller's own handle
    // rather than a second one, which would keep the tensor (and its graph) alive until GC.
    if (entry.writesFirstArgument && stack[0].isTensor() && given > 0 && isTensorHandle(env, info[1])) {
      const at::Tensor& first = unwrapTensor(info[1], entry.label);
      if (first.unsafeGetTensorImpl() == stack[0].toTensor().unsafeGetTensorImpl()) return info[1];
    }
    return fromIValue(env, stack[0]);
  }
  Napi::Array results = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) results.Set(static_cast<uint32_t>(i), fromIValue(env, stack[i]));
  return results;
}

Napi::Value opSchema(const Napi::CallbackInfo& info) {
  size_t id = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  auto& entries = registry();
  if (id >= entries.size()) throw Napi::Error::New(info.Env(), "opSchema: unknown operator id");
  std::ostringstream out;
  out << entries[id].handle.schema();
  return Napi::String::New(info.Env(), out.str());
}

}  // namespace

void registerOpCall(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "resolveOp", resolveOp);
  exportFunction(env, exports, "opSchema", opSchema);
  // The hot path: registered directly, it translates its own errors.
  exports.Set("callOp", Napi::Function::New(env, callOp, "callOp"));
}

}  // namespace onevideo
