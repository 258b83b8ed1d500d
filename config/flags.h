// A command-line flag set with the semantics of spf13/pflag as the Kubernetes components use it:
//   --name=value, --name value, -v=2 / -v 2 / -v2 (shorthands), booleans that never consume the next
//   argument (--flag, --flag=false), repeatable comma-separated slices, key=value maps, custom setters,
//   deprecated and hidden flags, `--` terminator, positional arguments, and pflag's error texts:
//     unknown flag: --foo
//     invalid argument "x" for "--max-pods" flag: strconv.ParseInt: parsing "x": invalid syntax
//     flag needs an argument: --config
// Flag names are normalised as Kubernetes' WordSepNormalizeFunc does ("_" → "-").
//
//   FlagSet fs("kube-proxy");
//   fs.add_string("config", &opts.config_file, "Configuration file to load.");
//   fs.add_int32("oom-score-adj", &cfg.oom_score_adj, "OOM score adjustment of the process.");
//   fs.mark_deprecated("healthz-port", "use --healthz-bind-address");
//   if (auto st = fs.parse(args); !st) return st.error();
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "config/duration.h"

namespace knode::config {

class FlagSet {
 public:
  // Converts a textual value and stores it; the returned error text follows "flag: ".
  using Setter = std::function<Status(std::string_view value)>;

  explicit FlagSet(std::string name);
  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Typed flags bound to storage. The storage's value at registration is the default shown in usage.
  void add_bool(std::string name, bool* v, std::string usage);
  void add_string(std::string name, std::string* v, std::string usage);
  void add_int32(std::string name, int32_t* v, std::string usage);
  void add_int64(std::string name, int64_t* v, std::string usage);
  void add_uint32(std::string name, uint32_t* v, std::string usage);
  void add_uint64(std::string name, uint64_t* v, std::string usage);
  void add_float32(std::string name, float* v, std::string usage);
  void add_float64(std::string name, double* v, std::string usage);
  // A Go duration ("1h2m3.5s", "300ms"); pflag type "duration".
  void add_duration(std::string name, std::chrono::nanoseconds* v, std::string usage);
  void add_duration(std::string name, Duration* v, std::string usage);
  // Comma-separated, repeatable; the first use replaces the default. pflag type "strings".
  void add_string_slice(std::string name, std::vector<std::string>* v, std::string usage);
  // "k1=v1,k2=v2"; repeated uses merge. Types mapStringString / mapStringBool.
  void add_string_map(std::string name, std::map<std::string, std::string>* v, std::string usage);
  void add_bool_map(std::string name, std::map<std::string, bool>* v, std::string usage);
  // Any other value. `type_name` is what usage prints after the name ("" for booleans);
  // `default_text` is shown as "(default ...)" unless empty; is_bool: `--name` alone means "true"
  // and the next argument is never consumed.
  void add_custom(std::string name, Setter setter, std::string usage, bool is_bool = false,
                  std::string type_name = "", std::string default_text = "");

  // Modifiers for an already added flag.
  void set_shorthand(std::string_view name, char shorthand);
  // The flag keeps working; parse() collects "Flag --name has been deprecated, msg" and usage hides it.
  void mark_deprecated(std::string_view name, std::string message);
  void mark_hidden(std::string_view name);
  // Value used when the flag appears without "=value" (pflag's NoOptDefVal).
  void set_no_opt_default(std::string_view name, std::string value);

  // Parses args (without argv[0]). Flags and positional arguments may be interspersed; "--" ends
  // the flags. Stops at the first error.
  Status parse(const std::vector<std::string>& args);

  bool has(std::string_view name) const;
  // True once the flag was set on the command line.
  bool changed(std::string_view name) const;
  // Names of the flags that were set, in the order they were first set.
  const std::vector<std::string>& changed_flags() const { return changed_order_; }
  const std::vector<std::string>& args() const { return positional_; }
  // Positional args that appeared before "--" (-1 when there was no "--"), like pflag's ArgsLenAtDash.
  int args_len_at_dash() const { return args_len_at_dash_; }
  // Deprecation notices collected during parse().
  const std::vector<std::string>& warnings() const { return warnings_; }

  // pflag's FlagUsages: one line per visible flag, sorted by name, descriptions aligned.
  std::string usage() const;

  const std::string& name() const { return name_; }

  struct Flag;  // defined in flags.cpp

 private:
  Flag& add(std::string name, std::string type, std::string usage, Setter setter,
            std::string default_text);
  Flag* find(std::string_view name);
  const Flag* find(std::string_view name) const;
  Status set(Flag& f, std::string_view value);

  std::string name_;
  std::map<std::string, std::unique_ptr<Flag>, std::less<>> flags_;
  std::map<char, Flag*> shorthands_;
  std::vector<std::string> positional_;
  std::vector<std::string> changed_order_;
  std::vector<std::string> warnings_;
  int args_len_at_dash_ = -1;
};

// Go-compatible scalar parsing and formatting, shared by flag and config decoding.
// Error texts match Go's (e.g. `strconv.ParseInt: parsing "x": invalid syntax`).
Result<int64_t> parse_go_int(std::string_view s, int bits);
Result<uint64_t> parse_go_uint(std::string_view s, int bits);
Result<bool> parse_go_bool(std::string_view s);
Result<double> parse_go_float(std::string_view s, int bits);
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s);
std::string format_go_duration(std::chrono::nanoseconds d);
std::string format_go_float(double v, int bits);
// Go's %q for a string.
std::string go_quote(std::string_view s);

}  // namespace knode::config
