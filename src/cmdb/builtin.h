// The built-in CI types and relationship types of a GPU data centre.
#pragma once

#include <vector>

#include "cmdb/types.h"

namespace gantry::cmdb {

const std::vector<CiType>& BuiltinCiTypes();
const std::vector<RelationType>& BuiltinRelationTypes();

}  // namespace gantry::cmdb
