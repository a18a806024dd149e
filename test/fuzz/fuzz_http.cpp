// The server's HTTP request parser on arbitrary bytes, read as the
// connection loop reads them: requests one after another from the front of
// the buffer (pipelined) until one is incomplete or refused. Whatever the
// bytes: a refusal has a 4xx status and a message; a request takes at least
// its head's bytes and no more than it was given, its body is as long as its
// Content-Length says; and the answer does not depend on how the bytes
// arrived: any prefix parses as "incomplete" or exactly as the whole does.
#include "runtime/server/http.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using qwenc_rt::http::Parse;
using qwenc_rt::http::Request;

// Small limits, so that the fuzzer reaches them.
constexpr size_t kMaxHeader = 2048, kMaxBody = 4096;

struct Result {
  Parse got;
  Request r;
  size_t consumed = 0;
  int status = 0;
  std::string message;
};

Result parse(std::string_view buf) {
  Result x;
  x.got = qwenc_rt::http::parse_request(buf, kMaxHeader, kMaxBody, x.r, x.consumed, x.status, x.message);
  return x;
}

[[noreturn]] void fail(const char *what, std::string_view buf) {
  std::fprintf(stderr, "fuzz_http: %s (request of %zu bytes)\n", what, buf.size());
  std::abort();
}

void check(const Result &x, std::string_view buf) {
  if (x.got == Parse::Error && (x.status < 400 || x.status > 499 || x.message.empty()))
    fail("a refusal without a 4xx status and a message", buf);
  if (x.got == Parse::Incomplete && buf.size() > kMaxHeader + kMaxBody + 4)
    fail("more bytes than the limits allow are still incomplete", buf);
  if (x.got != Parse::Complete)
    return;
  if (x.consumed > buf.size() || x.consumed < x.r.body.size() + 4 || x.r.method.empty())
    fail("a request's size is not what it was given", buf);
  if (x.r.body != buf.substr(x.consumed - x.r.body.size(), x.r.body.size()))
    fail("the body is not the request's last bytes", buf);
  const std::string cl = x.r.header("content-length");
  if (cl.empty() ? !x.r.body.empty() : std::stoull(cl) != x.r.body.size()) // "08" is 8
    fail("the body's length is not the Content-Length", buf);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view buf(reinterpret_cast<const char *>(data), size);
  for (int requests = 0; requests < 64; ++requests) {
    const Result whole = parse(buf);
    check(whole, buf);
    // Arriving in pieces: a prefix is incomplete, or it is the same answer.
    for (size_t cut : {buf.size() / 3, buf.size() / 2, buf.size() - (buf.empty() ? 0 : 1)}) {
      const Result part = parse(buf.substr(0, cut));
      check(part, buf.substr(0, cut));
      if (part.got == Parse::Incomplete)
        continue;
      if (part.got != whole.got || part.status != whole.status || part.consumed != whole.consumed ||
          part.r.body != whole.r.body || part.r.headers != whole.r.headers || part.r.path != whole.r.path)
        fail("a prefix parses differently from the whole", buf);
    }
    if (whole.got != Parse::Complete)
      break;
    buf.remove_prefix(whole.consumed);
  }
  return 0;
}
