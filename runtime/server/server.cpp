// The OpenAI-compatible API over the engine: requests checked field by field
// (a wrong one is a 400 in OpenAI's error shape, naming the field), chat
// messages through the same template as the terminal chat, answers whole or
// as server-sent events.
#include "server.h"

#include "../chat.h"
#include "../qwenc_runtime.h"
#include "engine.h"
#include "http.h"
#include "page.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <netinet/in.h>

// Defined only in a build with LeakSanitizer (ASan's tests).
extern "C" void __lsan_do_leak_check() __attribute__((weak));

namespace qwenc_rt::server {

using json = nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

/// A request the API refuses: status, message, the field at fault.
struct ApiError {
  int status;
  std::string message, param;
  std::string type = "invalid_request_error";
};

std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(http::Connection &c, const ApiError &e) {
  json body = {{"error",
                {{"message", e.message},
                 {"type", e.type},
                 {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                 {"code", nullptr}}}};
  c.send(e.status, "application/json", dump(body));
}

/// Field readers: absent or null is "not given"; a wrong type or range is
/// an ApiError naming the field.
struct Fields {
  const json &j;
  bool has(const char *k) const { return j.contains(k) && !j[k].is_null(); }
  double number(const char *k, double lo, double hi) const {
    const json &v = j[k];
    if (!v.is_number())
      throw ApiError{400, std::string("'") + k + "' must be a number", k};
    double d = v.get<double>();
    if (!(d >= lo && d <= hi))
      throw ApiError{400, std::string("'") + k + "' must be between " + fmt(lo) + " and " + fmt(hi), k};
    return d;
  }
  long long integer(const char *k, long long lo, long long hi) const {
    const json &v = j[k];
    if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == double((long long)v.get<double>())))
      throw ApiError{400, std::string("'") + k + "' must be an integer", k};
    double d = v.get<double>();
    if (!(d >= double(lo) && d <= double(hi)))
      throw ApiError{400, std::string("'") + k + "' must be an integer from " + std::to_string(lo) + " to " +
                              std::to_string(hi), k};
    return v.is_number_integer() ? v.get<long long>() : (long long)d;
  }
  bool boolean(const char *k) const {
    if (!j[k].is_boolean())
      throw ApiError{400, std::string("'") + k + "' must be true or false", k};
    return j[k].get<bool>();
  }
  static std::string fmt(double d) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", d);
    return b;
  }
};

/// The sampling and length fields shared by both endpoints.
GenParams read_params(const json &j, const Config &c, int room) {
  Fields f{j};
  GenParams p;
  p.sampling = c.defaults;
  if (f.has("n") && f.integer("n", 1, 1) != 1)
    throw ApiError{400, "'n' must be 1", "n"};
  if (f.has("temperature")) {
    p.sampling.temperature = float(f.number("temperature", 0, 2));
    p.sampling.greedy = p.sampling.temperature == 0.0f;
  }
  if (f.has("top_p"))
    p.sampling.top_p = float(f.number("top_p", 0, 1));
  if (p.sampling.top_p <= 0.0f)
    p.sampling.top_p = 1e-6f; // only the most likely
  if (f.has("top_k"))
    p.sampling.top_k = std::max(0, int(f.integer("top_k", -1, 1 << 20))); // -1 (vLLM) or 0: all
  if (f.has("min_p"))
    p.sampling.min_p = float(f.number("min_p", 0, 1));
  if (f.has("repetition_penalty"))
    p.sampling.repetition_penalty = float(f.number("repetition_penalty", 0.01, 10));
  else if (p.sampling.greedy)
    p.sampling.repetition_penalty = 1.0f; // temperature 0 is plain argmax, as the CLI's --greedy
  if (f.has("presence_penalty"))
    p.presence_penalty = float(f.number("presence_penalty", -2, 2));
  if (f.has("frequency_penalty"))
    p.frequency_penalty = float(f.number("frequency_penalty", -2, 2));
  p.seed = f.has("seed") ? uint64_t(f.integer("seed", -(1ll << 62), 1ll << 62))
                         : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  const char *length_field = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  p.max_tokens = room;
  if (f.has(length_field)) {
    p.max_tokens = int(f.integer(length_field, 1, c.max_tokens));
    p.max_tokens = p.max_tokens < room ? p.max_tokens : room;
  } else if (p.max_tokens > c.max_tokens) {
    p.max_tokens = c.max_tokens;
  }
  if (f.has("stop")) {
    const json &s = j["stop"];
    if (s.is_string())
      p.stop.push_back(s.get<std::string>());
    else if (s.is_array() && s.size() <= 4) {
      for (const json &x : s) {
        if (!x.is_string())
          throw ApiError{400, "'stop' must be a string or an array of up to 4 strings", "stop"};
        p.stop.push_back(x.get<std::string>());
      }
    } else
      throw ApiError{400, "'stop' must be a string or an array of up to 4 strings", "stop"};
    for (const std::string &s1 : p.stop)
      if (s1.empty())
        throw ApiError{400, "'stop' strings must not be empty", "stop"};
  }
  if (f.has("ignore_eos"))
    p.ignore_eos = f.boolean("ignore_eos");
  if (f.has("response_format")) {
    const json &r = j["response_format"];
    if (!r.is_object() || !r.contains("type") || !r["type"].is_string())
      throw ApiError{400, "'response_format' must be an object with a 'type'", "response_format"};
    const std::string type = r["type"].get<std::string>();
    if (type == "json_object") {
      p.schema = Schema::any_object();
    } else if (type == "json_schema") {
      if (!r.contains("json_schema") || !r["json_schema"].is_object() || !r["json_schema"].contains("schema"))
        throw ApiError{400, "'response_format' json_schema needs {\"json_schema\": {\"schema\": {...}}}",
                       "response_format"};
      std::string error;
      p.schema = Schema::compile(dump(r["json_schema"]["schema"]), error);
      if (!p.schema)
        throw ApiError{400, "response_format: " + error, "response_format"};
    } else if (type != "text") {
      throw ApiError{400, "'response_format' type '" + type + "' is not supported (text, json_object, json_schema)",
                     "response_format"};
    }
  }
  return p;
}

struct Counter {
  std::atomic<uint64_t> next{1};
  std::string id(const char *prefix) {
    char b[48];
    std::snprintf(b, sizeof b, "%s-%016llx", prefix, (unsigned long long)next++);
    return b;
  }
};

class Api {
public:
  Api(const Config &c, Tokenizer &tok, Engine &engine) : c_(c), tok_(tok), engine_(engine) {}

  void handle(const http::Request &r, http::Connection &conn) {
    try {
      route(r, conn);
    } catch (const ApiError &e) {
      conn.keep_alive = conn.keep_alive && e.status < 500;
      send_error(conn, e);
    } catch (const std::exception &e) {
      send_error(conn, ApiError{500, std::string("internal error: ") + e.what(), "", "server_error"});
    }
    ++http_requests_;
  }

private:
  void route(const http::Request &r, http::Connection &conn) {
    const std::string &p = r.path;
    const bool get = r.method == "GET" || r.method == "HEAD", post = r.method == "POST";
    auto method = [&](bool ok, const char *allowed) {
      if (!ok)
        throw ApiError{405, "use " + std::string(allowed) + " for " + p, ""};
    };
    if (p == "/" || p == "/index.html") {
      method(get, "GET");
      conn.send(200, "text/html; charset=utf-8", kChatPage);
    } else if (p == "/health") {
      method(get, "GET");
      conn.send(200, "application/json", "{\"status\":\"ok\"}");
    } else if (p == "/v1/models" || p == "/metrics" || p == "/v1/chat/completions" || p == "/v1/completions") {
      authorize(r);
      if (p == "/v1/models") {
        method(get, "GET");
        json m = {{"object", "list"},
                  {"data", json::array({{{"id", kModel.name}, {"object", "model"}, {"created", started_},
                                         {"owned_by", "qwenc"}, {"max_model_len", c_.ctx}}})}};
        conn.send(200, "application/json", dump(m));
      } else if (p == "/metrics") {
        method(get, "GET");
        conn.send(200, "text/plain; version=0.0.4", metrics());
      } else {
        method(post, "POST");
        generate(r, conn, p == "/v1/chat/completions");
      }
    } else {
      throw ApiError{404, "no such endpoint: " + r.method + " " + p, ""};
    }
  }

  void authorize(const http::Request &r) {
    if (c_.api_key.empty())
      return;
    if (r.header("authorization") != "Bearer " + c_.api_key)
      throw ApiError{401, "a valid API key is needed: Authorization: Bearer KEY (the server's --api-key)", "",
                     "authentication_error"};
  }

  std::string metrics() {
    Metrics m = engine_.metrics();
    std::string s;
    auto line = [&](const char *name, const char *type, const char *help, double v) {
      char b[64];
      std::snprintf(b, sizeof b, "%.6g", v);
      s += std::string("# HELP qwenc_") + name + " " + help + "\n# TYPE qwenc_" + name + " " + type + "\nqwenc_" +
           name + " " + b + "\n";
    };
    line("http_requests_total", "counter", "HTTP requests answered", double(http_requests_));
    line("requests_total", "counter", "generation requests accepted", double(m.requests));
    line("requests_cancelled_total", "counter", "generations stopped because the client left", double(m.cancelled));
    line("prompt_tokens_total", "counter", "prompt tokens run through the model", double(m.prompt_tokens));
    line("prompt_tokens_cached_total", "counter", "prompt tokens reused from a slot's cache",
         double(m.cached_prompt_tokens));
    line("generation_tokens_total", "counter", "tokens generated", double(m.generated_tokens));
    line("decode_steps_total", "counter", "batched decode steps", double(m.steps));
    line("decode_rows_total", "counter", "sequences' rows in the decode steps", double(m.decode_rows));
    line("requests_queued", "gauge", "requests waiting for a slot", m.queued);
    line("requests_active", "gauge", "requests in a slot", m.active);
    line("slots", "gauge", "KV cache slots (--parallel)", m.slots);
    line("decode_tokens_per_second", "gauge", "aggregate decode rate of recent steps", m.recent_decode_tps);
    line("prefill_seconds_total", "counter", "seconds spent reading prompts", m.prefill_s);
    line("decode_seconds_total", "counter", "seconds spent in decode steps", m.decode_s);
    line("constrain_seconds_total", "counter", "seconds spent masking logits for structured output", m.constrain_s);
    return s;
  }

  static std::string text_of(const json &content, size_t i) {
    if (content.is_string())
      return content.get<std::string>();
    if (content.is_null())
      return "";
    if (content.is_array()) { // parts: only text ones
      std::string text;
      for (const json &part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string())
          throw ApiError{400, "messages[" + std::to_string(i) + "].content: only text parts are supported",
                         "messages"};
        text += part["text"].get<std::string>();
      }
      return text;
    }
    throw ApiError{400, "messages[" + std::to_string(i) + "].content must be a string or an array of text parts",
                   "messages"};
  }

  std::vector<int32_t> chat_prompt(const json &j) {
    if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
      throw ApiError{400, "'messages' must be a non-empty array", "messages"};
    std::vector<ChatMessage> messages;
    size_t i = 0;
    for (const json &m : j["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
        throw ApiError{400, "messages[" + std::to_string(i) + "] must be an object with a 'role'", "messages"};
      std::string role = m["role"].get<std::string>();
      if (role == "developer")
        role = "system";
      if (role != "system" && role != "user" && role != "assistant")
        throw ApiError{400, "messages[" + std::to_string(i) + "].role '" + role +
                                "' is not supported (system, developer, user, assistant)", "messages"};
      messages.push_back({role, text_of(m.contains("content") ? m["content"] : json(nullptr), i)});
      ++i;
    }
    ChatPrompt prompt = render_chat(messages, true, kModel.default_system_prompt);
    std::vector<int32_t> ids;
    std::string err;
    std::lock_guard<std::mutex> lock(tok_mu_); // the tokenizer's caches are not shared safely
    if (!prompt.encode(tok_, false, ids, err))
      throw ApiError{400, "messages: " + err, "messages"};
    return ids;
  }

  std::vector<int32_t> completion_prompt(const json &j) {
    if (!j.contains("prompt"))
      throw ApiError{400, "'prompt' is required", "prompt"};
    const json &p = j["prompt"];
    std::vector<int32_t> ids;
    std::string err;
    auto text = [&](const std::string &s) {
      std::lock_guard<std::mutex> lock(tok_mu_);
      if (!tok_.encode(s, ids, err))
        throw ApiError{400, "prompt: " + err, "prompt"};
    };
    if (p.is_string()) {
      text(p.get<std::string>());
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
      text(p[0].get<std::string>());
    } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
      for (const json &x : p) {
        if (!x.is_number_integer() || x.get<long long>() < 0 || x.get<long long>() >= tok_.num_ids())
          throw ApiError{400, "'prompt' token ids must be integers from 0 to " + std::to_string(tok_.num_ids() - 1),
                         "prompt"};
        ids.push_back(int32_t(x.get<long long>()));
      }
    } else {
      throw ApiError{400, "'prompt' must be a string, an array of one string, or an array of token ids", "prompt"};
    }
    if (ids.empty())
      throw ApiError{400, "'prompt' is empty", "prompt"};
    return ids;
  }

  json logprobs_json(const std::vector<TokenLogprob> &lps) {
    json content = json::array();
    for (const TokenLogprob &t : lps) {
      auto entry = [&](int32_t id, float lp) {
        std::string_view b = tok_.token_bytes(id);
        json bytes = json::array();
        for (unsigned char ch : b)
          bytes.push_back(int(ch));
        return json{{"token", std::string(b)}, {"logprob", lp}, {"bytes", bytes}};
      };
      json e = entry(t.id, t.logprob);
      json top = json::array();
      for (const auto &[id, lp] : t.top)
        top.push_back(entry(id, lp));
      e["top_logprobs"] = top;
      content.push_back(e);
    }
    return json{{"content", content}};
  }

  /// /v1/completions' older shape: parallel arrays, alternatives as maps.
  json legacy_logprobs_json(const std::vector<TokenLogprob> &lps, size_t offset) {
    json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
    for (const TokenLogprob &t : lps) {
      std::string piece(tok_.token_bytes(t.id));
      tokens.push_back(piece);
      values.push_back(t.logprob);
      json top = json::object();
      for (const auto &[id, lp] : t.top)
        top[std::string(tok_.token_bytes(id))] = lp;
      tops.push_back(top);
      offsets.push_back(offset);
      offset += piece.size();
    }
    return json{{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
  }

  json usage(const Job &job) {
    return json{{"prompt_tokens", job.prompt_tokens},
                {"completion_tokens", job.completion_tokens},
                {"total_tokens", job.prompt_tokens + job.completion_tokens},
                {"prompt_tokens_details", {{"cached_tokens", job.cached_tokens}}}};
  }

  void generate(const http::Request &r, http::Connection &conn, bool chat) {
    if (!nesting_within(r.body, 64))
      throw ApiError{400, "the request body nests deeper than 64 levels", ""};
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded())
      throw ApiError{400, "the request body is not valid JSON (UTF-8)", ""};
    if (!j.is_object())
      throw ApiError{400, "the request body must be a JSON object", ""};
    auto job = std::make_shared<Job>();
    job->prompt = chat ? chat_prompt(j) : completion_prompt(j);
    if (int(job->prompt.size()) >= engine_.ctx())
      throw ApiError{400, "the prompt is " + std::to_string(job->prompt.size()) +
                              " tokens, the context holds " + std::to_string(engine_.ctx()) +
                              " (the server's --ctx); shorten it", chat ? "messages" : "prompt"};
    job->params = read_params(j, c_, engine_.ctx() - int(job->prompt.size()));
    Fields f{j};
    const bool logprobs = f.has("logprobs") && (chat ? f.boolean("logprobs") : true);
    if (logprobs) {
      job->params.top_logprobs = chat ? (f.has("top_logprobs") ? int(f.integer("top_logprobs", 0, 20)) : 0)
                                      : int(f.integer("logprobs", 0, 5));
    } else if (f.has("top_logprobs")) {
      throw ApiError{400, "'top_logprobs' needs 'logprobs': true", "top_logprobs"};
    }
    if (job->params.schema) { // the shortest answer the schema allows must fit
      std::vector<int32_t> shortest;
      std::string error;
      {
        std::lock_guard<std::mutex> lock(tok_mu_);
        tok_.encode(job->params.schema->shortest(), shortest, error);
      }
      if (int(shortest.size()) > job->params.max_tokens)
        throw ApiError{400, "the shortest answer response_format allows is " + std::to_string(shortest.size()) +
                                " tokens, more than max_tokens (" + std::to_string(job->params.max_tokens) + ")",
                       "max_tokens"};
    }
    const bool stream = f.has("stream") && f.boolean("stream");
    bool include_usage = false;
    if (f.has("stream_options")) {
      const json &so = j["stream_options"];
      if (!so.is_object())
        throw ApiError{400, "'stream_options' must be an object", "stream_options"};
      Fields sf{so};
      include_usage = sf.has("include_usage") && sf.boolean("include_usage");
    }
    std::string err;
    if (!engine_.submit(job, err))
      throw ApiError{503, err, "", "server_error"};
    const std::string id = ids_.id(chat ? "chatcmpl" : "cmpl");
    const long created = long(std::time(nullptr));
    const char *object = chat ? (stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
    json base = {{"id", id}, {"object", object}, {"created", created}, {"model", kModel.name},
                 {"system_fingerprint", std::string("qwenc-") + kModel.target}};
    size_t sent = 0; // bytes of text streamed so far (legacy logprobs' offsets)
    auto choice = [&](const std::string &text, const std::vector<TokenLogprob> &lps, const char *finish,
                      bool first) {
      json ch = {{"index", 0}};
      if (chat) {
        json delta = json::object();
        if (first)
          delta["role"] = "assistant";
        if (!text.empty() || first)
          delta["content"] = text;
        ch[stream ? "delta" : "message"] = delta;
      } else {
        ch["text"] = text;
      }
      ch["logprobs"] = !logprobs || lps.empty() ? json(nullptr)
                       : chat                     ? logprobs_json(lps)
                                                  : legacy_logprobs_json(lps, sent);
      ch["finish_reason"] = finish ? json(finish) : json(nullptr);
      return ch;
    };
    if (stream)
      conn.begin_stream(200, "text/event-stream");
    std::string text;
    std::vector<TokenLogprob> all_lps;
    bool first = true;
    Event e;
    auto checked = std::chrono::steady_clock::now();
    while (true) {
      const bool got = job->next(e, 100);
      // A client that hangs up is noticed within 0.1 s, events or not (a
      // stream notices it at its next write).
      if (!got || std::chrono::steady_clock::now() - checked > std::chrono::milliseconds(100)) {
        checked = std::chrono::steady_clock::now();
        if ((!stream && conn.peer_closed()) || conn.failed() || g_stop) {
          job->cancelled = true; // the engine frees the slot at its next step
          conn.keep_alive = false;
          return;
        }
      }
      if (!got)
        continue;
      if (stream) {
        if (!e.text.empty() || !e.logprobs.empty() || first) {
          json chunk = base;
          chunk["choices"] = json::array({choice(e.text, e.logprobs, nullptr, first)});
          if (include_usage)
            chunk["usage"] = nullptr;
          first = false;
          sent += e.text.size();
          if (!conn.write("data: " + dump(chunk) + "\n\n")) {
            job->cancelled = true;
            return;
          }
        }
      } else {
        text += e.text;
        all_lps.insert(all_lps.end(), e.logprobs.begin(), e.logprobs.end());
      }
      if (e.done)
        break;
    }
    if (std::string(e.finish_reason) == "cancelled")
      throw ApiError{503, "the server is shutting down", "", "server_error"};
    if (!stream) {
      json out = base;
      json ch = choice(text, all_lps, e.finish_reason, true);
      if (chat)
        ch["message"] = {{"role", "assistant"}, {"content", text}};
      out["choices"] = json::array({ch});
      out["usage"] = usage(*job);
      conn.send(200, "application/json", dump(out));
      return;
    }
    json last = base;
    json ch = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", e.finish_reason}};
    if (chat)
      ch["delta"] = json::object();
    else
      ch["text"] = "";
    last["choices"] = json::array({ch});
    if (include_usage)
      last["usage"] = nullptr;
    conn.write("data: " + dump(last) + "\n\n");
    if (include_usage) {
      json u = base;
      u["choices"] = json::array();
      u["usage"] = usage(*job);
      conn.write("data: " + dump(u) + "\n\n");
    }
    conn.write("data: [DONE]\n\n");
    conn.end_stream();
  }

  const Config &c_;
  Tokenizer &tok_;
  std::mutex tok_mu_;
  Engine &engine_;
  Counter ids_;
  std::atomic<uint64_t> http_requests_{0};
  long started_ = long(std::time(nullptr));
};

} // namespace

bool parse_address(const std::string &text, std::string &host, int &port) {
  size_t colon = text.rfind(':');
  std::string p = colon == std::string::npos ? text : text.substr(colon + 1);
  if (colon != std::string::npos)
    host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || host.empty())
    return false;
  port = std::stoi(p);
  return port <= 65535;
}

int run(const Config &c, const uint8_t *weights, Tokenizer &tok) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  Engine engine(weights, tok, c.ctx, c.parallel, c.max_queue);
  std::string err;
  if (!engine.start(err)) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return 1;
  }
  Api api(c, tok, engine);
  http::ServerOptions o;
  o.host = c.host;
  o.port = c.port;
  o.max_body = c.max_body;
  o.cors = c.cors;
  o.read_timeout_s = c.timeout_s;
  o.on_error = [](http::Connection &conn, int status, const std::string &message) {
    send_error(conn, ApiError{status, message, "", status >= 500 ? "server_error" : "invalid_request_error"});
  };
  o.on_listening = [&](int port) {
    std::fprintf(stderr, "serving %s on http://%s:%d (%d slots of %d positions; OpenAI API at /v1, chat page at /)\n",
                 kModel.name, c.host.find(':') != std::string::npos ? ("[" + c.host + "]").c_str() : c.host.c_str(),
                 port, c.parallel, c.ctx);
  };
  if (!http::serve(o, [&](const http::Request &r, http::Connection &conn) { api.handle(r, conn); }, g_stop, err)) {
    std::fprintf(stderr, "error: %s\n", err.c_str());
    return 1;
  }
  engine.stop();
  std::fprintf(stderr, "server stopped\n");
  std::fflush(nullptr);
  // Idle connection threads may still hold the API: end without unwinding
  // it. _Exit skips LeakSanitizer's check at exit, so a sanitized build
  // runs it here: a leak makes the exit status non-zero.
  if (__lsan_do_leak_check)
    __lsan_do_leak_check();
  std::_Exit(0);
}

} // namespace qwenc_rt::server
