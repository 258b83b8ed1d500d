// JSON text exactly as Go's encoding/json writes it, so files and stdin that libcni-based tools
// produce (result cache, injected plugin config) come out byte for byte the same from knode.
// Boost.JSON stays out of widely-included headers: only forward declarations here.
#pragma once

#include <string>
#include <string_view>

namespace boost::json {
class value;
class object;
}  // namespace boost::json

namespace knode::cni {

// Go's json.Marshal (indent empty) or json.MarshalIndent(v, "", indent): members in the object's
// order, HTML-safe escaping of <, > and &, Go's float formatting.
std::string go_marshal(const boost::json::value& v, std::string_view indent = {});

// Reorders members by key as Go does when it marshals a map[string]interface{}.
void sort_keys(boost::json::object& o, bool recursive);
void sort_keys(boost::json::value& v);  // recursive

}  // namespace knode::cni
