// Module entry: registers every native function and translates C++ exceptions
// into JavaScript errors, so that no libtorch failure ends the process.
#include "common.h"

namespace onevideo {

std::string torchMessage(const c10::Error& error) {
  std::string message = error.what_without_backtrace();
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

void exportFunction(Napi::Env env, Napi::Object exports, const char* name, NativeFunction fn) {
  std::string label = name;
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn = std::move(fn), label](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return fn(info);
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const c10::Error& error) {
                            throw Napi::Error::New(info.Env(), label + ": " + torchMessage(error));
                          } catch (const std::exception& error) {
                            throw Napi::Error::New(info.Env(), label + ": " + error.what());
                          }
                        },
                        name));
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  registerTensorHandle(env, exports);
  registerOpCall(env, exports);
  registerAutograd(env, exports);
  registerRuntime(env, exports);
  registerDistributed(env, exports);
  registerAutocast(env, exports);
  registerStopSignals(env, exports);
  return exports;
}

}  // namespace onevideo

static Napi::Object initAddon(Napi::Env env, Napi::Object exports) { return onevideo::init(env, exports); }

NODE_API_MODULE(onevideo_native, initAddon)
