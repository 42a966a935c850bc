// Reading PyTorch's torch.save files with libtorch's own unpickler.
#include "common.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <iterator>

namespace onevideo {

namespace {

// loadPickle(path): the unpickled object; dicts come back as { dict: [[key, value], ...] }.
Napi::Value loadPickle(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 4 || bytes[0] != 'P' || bytes[1] != 'K') {
    throw std::runtime_error(path + " is not a torch.save file (expected the zip format PyTorch writes since 1.6)");
  }
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const c10::Error& error) {
    throw std::runtime_error(path + " could not be read as a torch.save file: " + torchMessage(error));
  }
  return fromIValue(info.Env(), value);
}

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
  exportFunction(env, exports, "loadPickle", loadPickle);
  exportFunction(env, exports, "savePickle", savePickle);
}

}  // namespace onevideo
