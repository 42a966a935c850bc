// SIGINT and SIGTERM while a run trains. The first asks the run to stop after the current
// step (the training loop reads the request between steps, writes a checkpoint and exits);
// a second ends the process at once, even in the middle of a step, as the user asked twice.
// Node's own handlers are put back when the run ends.
#include "common.h"

#include <csignal>
#include <unistd.h>

namespace onevideo {

namespace {

volatile std::sig_atomic_t requested = 0;
struct sigaction previousInterrupt;
struct sigaction previousTerminate;
bool catching = false;

extern "C" void onStopSignal(int signal) {
  if (requested != 0) _exit(128 + signal);
  requested = signal;
}

// catchStopSignals(): from now on SIGINT and SIGTERM are stop requests.
Napi::Value catchStopSignals(const Napi::CallbackInfo& info) {
  requested = 0;
  if (!catching) {
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &previousInterrupt);
    sigaction(SIGTERM, &action, &previousTerminate);
    catching = true;
  }
  return info.Env().Undefined();
}

// releaseStopSignals(): the handlers that were there before.
Napi::Value releaseStopSignals(const Napi::CallbackInfo& info) {
  if (catching) {
    sigaction(SIGINT, &previousInterrupt, nullptr);
    sigaction(SIGTERM, &previousTerminate, nullptr);
    catching = false;
  }
  return info.Env().Undefined();
}

// stopSignal(): the number of the signal that asked to stop, or 0.
Napi::Value stopSignal(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(requested));
}

}  // namespace

void registerStopSignals(Napi::Env env, Napi::Object exports) {
  exportFunction(env, exports, "catchStopSignals", catchStopSignals);
  exportFunction(env, exports, "releaseStopSignals", releaseStopSignals);
  exportFunction(env, exports, "stopSignal", stopSignal);
}

}  // namespace onevideo
