// Writing state dicts in torch.save's format with libtorch's own pickler.
// (Reading is done in TypeScript: libtorch 1.13's unpickler rejects files Python writes.)
#include "common.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>

namespace onevideo {

namespace {

// savePickle(path, names[], tensors[]): a state dict that torch.load reads.
Napi::Value savePickle(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array names = info[1].As<Napi::Array>();
  auto tensors = toTensorVector(info[2], "savePickle tensors");
  if (names.Length() != tensors.size()) throw std::invalid_argument("savePickle: names and tensors differ in count");
  c10::Dict<std::string, at::Tensor> dict;
  for (uint32_t i = 0; i < names.Length(); ++i) dict.insert(names.Get(i).As<Napi::String>().Utf8Value(), tensors[i]);
  std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  std::ofstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot write " + path);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw std::runtime_error("writing " + path + " failed");
  return info.Env().Undefined();
}

}  // namespace

void registerSerialize(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "savePickle", savePickle);
}

}  // namespace onevideo
