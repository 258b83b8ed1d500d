// Internal: PluginResult <-> Boost.JSON, for the .cpp files that build plugin stdin and cache files.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cni/plugin_result.h"

namespace knode::cni {

// Members in the order Go's result structs declare them.
Result<boost::json::object> result_to_object(const PluginResult& r, std::string_view version);
Result<PluginResult> result_from_value(const boost::json::value& v);

}  // namespace knode::cni
