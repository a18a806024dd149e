// A small HTTP/1.1 server on POSIX sockets: what `BIN --serve` needs and no
// more. Debian's cpp-httplib (0.11) is built in split mode, its code only in
// a shared library (and none for arm64 here), which would break the one
// self-contained executable; this one is a few hundred lines, owns its
// limits (header and body size, read timeouts, connection count) and runs on
// every target the runtime builds for.
#ifndef QWENC_SERVER_HTTP_H
#define QWENC_SERVER_HTTP_H

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace qwenc_rt::http {

struct Request {
  std::string method, path, query; // path without the query string
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;
  std::string header(const std::string &name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// One connection's answer to its current request: either send() once, or
/// begin_stream(), then write() any number of times, then end_stream().
class Connection {
public:
  Connection(int fd, bool cors, int idle_s = 5) : fd_(fd), cors_(cors), idle_s_(idle_s) {}
  void send(int status, const std::string &content_type, const std::string &body,
            const std::string &extra_headers = "");
  void begin_stream(int status, const std::string &content_type);
  /// False once the client is gone (the write failed or timed out).
  bool write(const std::string &data);
  void end_stream();
  /// The client has hung up (checked without blocking).
  bool peer_closed() const;
  bool failed() const { return failed_; }
  bool keep_alive = true;

private:
  bool write_all(const char *p, size_t n);
  std::string head(int status, const std::string &content_type) const;
  int fd_;
  bool cors_;
  int idle_s_;
  bool failed_ = false;
};

using Handler = std::function<void(const Request &, Connection &)>;
/// Answers a request the HTTP layer refuses (malformed, too large, server
/// busy): the API's error shape lives with the API.
using ErrorReply = std::function<void(Connection &, int status, const std::string &message)>;

/// What the front of a connection's buffer holds.
enum class Parse { Incomplete, Complete, Error };

/// Parses one request from the front of buf: Complete with r filled and
/// consumed its bytes (head and body); Incomplete while more bytes are
/// needed, which the limits bound (max_header bytes of head, max_body of
/// body); Error with the status and message to answer. Pure, so that the
/// fuzz harness drives it as the connection loop does.
Parse parse_request(std::string_view buf, size_t max_header, size_t max_body, Request &r, size_t &consumed,
                    int &status, std::string &message);

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t max_body = 8u << 20;   // bytes of a request body
  size_t max_header = 64u << 10; // bytes of the request line and headers
  int read_timeout_s = 30;       // a client silent this long in the middle of a request is dropped
  int idle_timeout_s = 5;        // a kept-alive connection with no request for this long is closed
                                 // (announced in Keep-Alive, so clients stop reusing it first)
  int max_connections = 128;     // more at once get 503
  bool cors = false;             // Access-Control-Allow-Origin: * and preflight answers
  std::function<void(int port)> on_listening; // once bound: the port (port 0 picks a free one)
  ErrorReply on_error;                        // how refusals are written (default: the message as text)
};

/// Listens, then answers each connection on a thread of its own until
/// `stop` is set. False + message if the address cannot be bound.
bool serve(const ServerOptions &o, const Handler &handler, const std::atomic<bool> &stop, std::string &error);

const char *status_text(int status);

} // namespace qwenc_rt::http
#endif
