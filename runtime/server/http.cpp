#include "http.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

namespace qwenc_rt::http {

const char *status_text(int status) {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  default: return "Status";
  }
}

bool Connection::write_all(const char *p, size_t n) {
  while (n > 0 && !failed_) {
    ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) { // gone, or too slow to read (SO_SNDTIMEO)
      failed_ = true;
      break;
    }
    p += w;
    n -= size_t(w);
  }
  return !failed_;
}

std::string Connection::head(int status, const std::string &content_type) const {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
  if (!content_type.empty())
    h += "Content-Type: " + content_type + "\r\n";
  if (cors_)
    h += "Access-Control-Allow-Origin: *\r\n";
  h += keep_alive ? "Connection: keep-alive\r\nKeep-Alive: timeout=" + std::to_string(idle_s_) + "\r\n"
                  : "Connection: close\r\n";
  return h;
}

void Connection::send(int status, const std::string &content_type, const std::string &body,
                      const std::string &extra_headers) {
  std::string h = head(status, content_type) + extra_headers + "Content-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n";
  if (write_all(h.data(), h.size()))
    write_all(body.data(), body.size());
}

void Connection::begin_stream(int status, const std::string &content_type) {
  std::string h = head(status, content_type) + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
  write_all(h.data(), h.size());
}

bool Connection::write(const std::string &data) {
  if (data.empty())
    return !failed_;
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string chunk(size, size_t(n));
  chunk += data;
  chunk += "\r\n";
  return write_all(chunk.data(), chunk.size());
}

void Connection::end_stream() { write_all("0\r\n\r\n", 5); }

bool Connection::peer_closed() const {
  pollfd p = {fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0)
    return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
    return true;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

namespace {

std::string lower(std::string s) {
  for (char &c : s)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

/// Reads more bytes into buf; false on end of input, an error or the timeout.
bool read_more(int fd, std::string &buf) {
  char tmp[16384];
  while (true) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    buf.append(tmp, size_t(n));
    return true;
  }
}

void reply_error(const ServerOptions &o, Connection &c, int status, const std::string &message) {
  c.keep_alive = false;
  if (o.on_error)
    o.on_error(c, status, message);
  else
    c.send(status, "text/plain", message + "\n");
}

/// Parses the request head in buf[0, end): the request line, then header
/// lines each ending in CRLF. False + status on a malformed one.
bool parse_head(std::string_view buf, size_t end, Request &r, int &status, std::string &message) {
  const size_t line_end = buf.find("\r\n");
  const std::string_view line = buf.substr(0, line_end);
  const size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string_view::npos || s1 == 0 || s2 == s1 || line.substr(s2 + 1).size() != 8 ||
      line.compare(s2 + 1, 7, "HTTP/1.") != 0) {
    status = 400, message = "malformed request line";
    return false;
  }
  r.method = std::string(line.substr(0, s1));
  const std::string_view target = line.substr(s1 + 1, s2 - s1 - 1);
  const size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  r.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  const bool http10 = line.compare(s2 + 1, 8, "HTTP/1.0") == 0;
  for (size_t at = line_end + 2; at < end;) {
    const size_t e = buf.find("\r\n", at);
    const std::string h(buf.substr(at, e - at));
    at = e + 2;
    const size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      status = 400, message = "malformed header line";
      return false;
    }
    const std::string name = lower(trim(h.substr(0, colon))), value = trim(h.substr(colon + 1));
    // Two lengths that disagree are how requests get smuggled past proxies.
    auto it = r.headers.find(name);
    if (it != r.headers.end() && name == "content-length" && it->second != value) {
      status = 400, message = "conflicting Content-Length headers";
      return false;
    }
    r.headers[name] = value; // a repeated field: the last one
  }
  const std::string conn = lower(r.header("connection"));
  r.headers["connection"] = conn.empty() ? (http10 ? "close" : "keep-alive") : conn;
  return true;
}

} // namespace

Parse parse_request(std::string_view buf, size_t max_header, size_t max_body, Request &r, size_t &consumed,
                    int &status, std::string &message) {
  const size_t end = buf.find("\r\n\r\n");
  // A head of max_header bytes may still be followed by its blank line.
  if (end == std::string_view::npos && buf.size() < max_header + 4)
    return Parse::Incomplete;
  if (end == std::string_view::npos || end > max_header) {
    status = 431, message = "the request line and headers are larger than " + std::to_string(max_header) + " bytes";
    return Parse::Error;
  }
  r = Request();
  if (!parse_head(buf, end + 2, r, status, message))
    return Parse::Error;
  if (!r.header("transfer-encoding").empty()) {
    status = 411, message = "send the body with a Content-Length, not Transfer-Encoding";
    return Parse::Error;
  }
  size_t length = 0;
  const std::string cl = r.header("content-length");
  if (!cl.empty()) {
    if (cl.size() > 12 || cl.find_first_not_of("0123456789") != std::string::npos) {
      status = 400, message = "malformed Content-Length";
      return Parse::Error;
    }
    length = size_t(std::stoull(cl));
  }
  if (length > max_body) {
    status = 413, message = "the request body is " + std::to_string(length) + " bytes, more than the limit of " +
                            std::to_string(max_body) + " (--max-body)";
    return Parse::Error;
  }
  const size_t head = end + 4;
  if (buf.size() - head < length)
    return Parse::Incomplete;
  r.body = std::string(buf.substr(head, length));
  consumed = head + length;
  return Parse::Complete;
}

namespace {

void handle_connection(int fd, const ServerOptions &o, const Handler &handler, const std::atomic<bool> &stop) {
  timeval tv{o.read_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string buf;
  Request r;
  while (!stop) {
    Connection c(fd, o.cors, o.idle_timeout_s);
    if (buf.empty()) { // between requests: the idle timeout, not the read one
      pollfd p = {fd, POLLIN, 0};
      if (::poll(&p, 1, o.idle_timeout_s * 1000) <= 0)
        return;
    }
    size_t consumed = 0;
    int status = 0;
    std::string message;
    Parse got;
    while ((got = parse_request(buf, o.max_header, o.max_body, r, consumed, status, message)) == Parse::Incomplete)
      if (!read_more(fd, buf))
        return; // closed, or silent past the timeout (mid-head or mid-body)
    if (got == Parse::Error) {
      reply_error(o, c, status, message);
      return;
    }
    buf.erase(0, consumed);
    c.keep_alive = r.header("connection") != "close";
    if (o.cors && r.method == "OPTIONS") {
      c.send(204, "", "",
             "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type\r\n");
    } else {
      handler(r, c);
    }
    if (!c.keep_alive || c.failed())
      return;
  }
}

} // namespace

bool serve(const ServerOptions &o, const Handler &handler, const std::atomic<bool> &stop, std::string &error) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  const std::string port = std::to_string(o.port);
  if (int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res)) {
    error = "--serve: cannot resolve '" + o.host + "': " + gai_strerror(rc);
    return false;
  }
  int fd = -1;
  std::string why;
  for (addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    error = "--serve: cannot listen on " + o.host + ":" + port + ": " + why;
    return false;
  }
  if (o.on_listening) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    o.on_listening(ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&a)->sin6_port
                                                 : reinterpret_cast<sockaddr_in *>(&a)->sin_port));
  }
  // Connection threads outlive this function only as the process ends.
  static std::atomic<int> active{0};
  while (!stop) {
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0)
      continue;
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0)
      continue;
    if (active >= o.max_connections) {
      Connection busy(c, o.cors);
      reply_error(o, busy, 503, "too many connections at once; try again");
      ::close(c);
      continue;
    }
    ++active;
    std::thread([c, &o, &handler, &stop] {
      handle_connection(c, o, handler, stop);
      ::close(c);
      --active;
    }).detach();
  }
  ::close(fd);
  // Answers under way see `stop` within their next wait; the rest (idle
  // keep-alive connections) end with the process.
  for (int i = 0; i < 40 && active > 0; ++i)
    ::poll(nullptr, 0, 50);
  return true;
}

} // namespace qwenc_rt::http
