// Field descriptions of the meta/v1 types, for the codecs of every object (internal header).
#pragma once

#include "agent/kube/codec.h"
#include "agent/kube/meta.h"

namespace knode::kube {

template <class V, class T> requires Is<T, OwnerReference>
void visit_fields(V& v, T& o) {
  v("apiVersion", o.api_version, kAlways)("kind", o.kind, kAlways)("name", o.name, kAlways)
   ("uid", o.uid, kAlways)("controller", o.controller)("blockOwnerDeletion", o.block_owner_deletion);
}

template <class V, class T> requires Is<T, ObjectMeta>
void visit_fields(V& v, T& o) {
  v("name", o.name)("generateName", o.generate_name)("namespace", o.namespace_)("uid", o.uid)
   ("resourceVersion", o.resource_version)("generation", o.generation)
   ("creationTimestamp", o.creation_timestamp)("deletionTimestamp", o.deletion_timestamp)
   ("deletionGracePeriodSeconds", o.deletion_grace_period_seconds)("labels", o.labels)
   ("annotations", o.annotations)("ownerReferences", o.owner_references)("finalizers", o.finalizers);
}

}  // namespace knode::kube
