// The read API's JSON for values and governance rows, shared by the API
// (api.cc) and the OpenLineage events (openlineage.cc). Internal to
// server/: it exposes nlohmann::json, which the public headers do not.
// Thread-safety: functions of their arguments alone; any thread.
#pragma once

#include <string>

#include "catalog/mesh_snapshot.h"
#include "catalog/row.h"
#include "nlohmann/json.hpp"

namespace diffmesh {

// A value as JSON: null, bool, number (NaN and infinities as strings),
// text; timestamps as ISO 8601.
nlohmann::json DatumJson(const Datum& d);

// The rows of product `domain`.`name` (a governance product) as objects
// keyed by column name; with a non-empty `id`, only the rows whose first
// column is `id`, without that column. Empty when there is no such
// product.
nlohmann::json GovernanceRows(const MeshSnapshot& s, const std::string& domain,
                              const std::string& name, const std::string& id);

}  // namespace diffmesh
