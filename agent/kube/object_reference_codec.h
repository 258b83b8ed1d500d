// Field descriptions of ObjectReference and LocalObjectReference (internal header).
#pragma once

#include "agent/kube/codec.h"
#include "agent/kube/object_reference.h"

namespace knode::kube {

template <class V, class T> requires Is<T, ObjectReference>
void visit_fields(V& v, T& o) {
  v("kind", o.kind)("namespace", o.namespace_)("name", o.name)("uid", o.uid)("apiVersion", o.api_version)
   ("resourceVersion", o.resource_version)("fieldPath", o.field_path);
}

template <class V, class T> requires Is<T, LocalObjectReference>
void visit_fields(V& v, T& o) { v("name", o.name); }

}  // namespace knode::kube
