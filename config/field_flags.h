// Flags for a field in a struct's visit_fields(): fields are `omitempty` (left out of the encoded
// YAML when empty, as upstream's json tags say) unless marked kAlways.
#pragma once

namespace knode::config {

enum FieldFlags : unsigned { kOmitEmpty = 0, kAlways = 1 };

}  // namespace knode::config
