// TRES (trackable resources) as Slurm spells them, and the translation from Gantry's resource
// names. All maps hold base units: counts, and bytes for memory (see types.h).
//
//   Gantry         Slurm TRES          on the sacctmgr command line
//   gpu/<model>    gres/gpu:<model>    gres/gpu:h100=N
//   gpu            gres/gpu            gres/gpu=N      (any model)
//   cpu            cpu                 cpu=N
//   memory         mem (bytes)         mem=NM          (whole MiB, rounded down)
//   nodes          node                node=N
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "integrations/slurm/types.h"

namespace gantry::slurm {

constexpr int64_t kMiB = int64_t{1} << 20;

// A TRES name Slurm could print or accept: [A-Za-z0-9_./:-]{1,128}, starting with a letter or
// digit.
bool IsValidTresName(std::string_view name);

// TRES whose amounts are sizes (mem, bb/*, fs/*): Slurm counts them in MiB and prints units.
bool IsSizeTres(std::string_view name);

// "billing=2,cpu=2,gres/gpu:h100=1,gres/gpu=1,mem=1G,node=1" → {billing:2, cpu:2, ...,
// mem:1073741824}. Sizes accept K/M/G/T/P suffixes (powers of 1024, decimals allowed: "mem=1.5G")
// and no suffix means MiB; every other TRES takes a plain non-negative integer. "" → {}. Anything
// else (a duplicate name, a missing '=', a unit on a count, an overflow) is an InvalidArgument
// naming it.
core::Result<TresMap> ParseTres(std::string_view text);

// {cpu:4, gres/gpu:h100:1, mem:2147483648} → "cpu=4,gres/gpu:h100=1,mem=2048M" (sizes in whole
// MiB, rounded down). Values < 0 are written as -1, which sacctmgr reads as "remove this limit".
std::string FormatTres(const TresMap& tres);

// Rounds size TRES down to whole MiB, which is what Slurm will store.
TresMap NormalizeTres(const TresMap& tres);

// Gantry resource names → Slurm TRES (table above). Unknown names: with `unmapped` == nullptr an
// InvalidArgument that lists the valid names; otherwise they are appended to *unmapped and
// skipped (MIG profiles, storage and instances have no Slurm TRES). Negative amounts are invalid.
core::Result<TresMap> ToSlurmTres(const std::map<std::string, int64_t>& gantry,
                                  std::vector<std::string>* unmapped = nullptr);
// One name: "gpu/h100" → "gres/gpu:h100"; InvalidArgument for names without a Slurm TRES.
core::Result<std::string> ToSlurmTresName(std::string_view gantry_name);

// Slurm TRES → Gantry names (inverse of the table). TRES without a Gantry name (billing, energy,
// licenses, ...) are skipped and, when `unmapped` is given, appended to it.
std::map<std::string, int64_t> FromSlurmTres(const TresMap& tres,
                                             std::vector<std::string>* unmapped = nullptr);

}  // namespace gantry::slurm
