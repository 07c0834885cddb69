// TRES strings and the Gantry ↔ Slurm resource names.
#include "integrations/slurm/tres.h"

#include <gtest/gtest.h>

namespace gantry::slurm {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

TEST(SlurmTres, ParsesAllocTresIntoBaseUnits) {
  auto r = ParseTres("billing=2,cpu=2,gres/gpu:h100=1,gres/gpu=1,mem=1G,node=1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((TresMap{{"billing", 2},
                     {"cpu", 2},
                     {"gres/gpu:h100", 1},
                     {"gres/gpu", 1},
                     {"mem", kGiB},
                     {"node", 1}}),
            *r);
}

TEST(SlurmTres, SizeUnits) {
  EXPECT_EQ(8000 * kMiB, ParseTres("mem=8000M")->at("mem"));
  EXPECT_EQ(2048 * kMiB, ParseTres("mem=2048")->at("mem"));  // no unit: MiB
  EXPECT_EQ(512 * 1024, ParseTres("mem=512K")->at("mem"));
  EXPECT_EQ(3 * (kGiB << 10), ParseTres("mem=3T")->at("mem"));
  EXPECT_EQ(kGiB + kGiB / 2, ParseTres("mem=1.5G")->at("mem"));
  EXPECT_EQ(int64_t{1} << 50, ParseTres("mem=1P")->at("mem"));
  EXPECT_EQ(10 * kGiB, ParseTres("fs/disk=10G")->at("fs/disk"));
}

TEST(SlurmTres, RejectsWhatItCannotReadExactly) {
  for (auto bad : {"cpu", "cpu=", "=4", "cpu=-1", "cpu=1.5", "cpu=4K", "mem=1X", "mem=1GB",
                   "cpu=4,", ",cpu=4", "cpu=4,cpu=5", "cpu=99999999999999999999", "mem=9000000P",
                   "gpu h100=1", "mem=1.G", "cpu=0x10"}) {
    auto r = ParseTres(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(core::Code::kInvalidArgument, r.error().code);
    }
  }
  EXPECT_TRUE(ParseTres("")->empty());
}

TEST(SlurmTres, FormatsForSacctmgr) {
  EXPECT_EQ("cpu=4,gres/gpu:h100=1,mem=2048M",
            FormatTres({{"cpu", 4}, {"gres/gpu:h100", 1}, {"mem", 2 * kGiB}}));
  EXPECT_EQ("mem=1M", FormatTres({{"mem", kMiB + 5}}));  // whole MiB, rounded down
  EXPECT_EQ("cpu=-1,node=2", FormatTres({{"cpu", -1}, {"node", 2}}));
  EXPECT_EQ("", FormatTres({}));
  // Round trip through Slurm's spelling.
  TresMap m = {{"cpu", 64}, {"gres/gpu:h100", 8}, {"mem", 512 * kGiB}, {"node", 2}};
  EXPECT_EQ(m, *ParseTres(FormatTres(m)));
}

TEST(SlurmTres, GantryNamesToSlurm) {
  auto r = ToSlurmTres({{"gpu/h100", 8}, {"cpu", 64}, {"memory", 512 * kGiB + 1}, {"nodes", 2}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((TresMap{{"gres/gpu:h100", 8}, {"cpu", 64}, {"mem", 512 * kGiB}, {"node", 2}}), *r);
  EXPECT_EQ("cpu=64,gres/gpu:h100=8,mem=524288M,node=2", FormatTres(*r));
  EXPECT_EQ("gres/gpu", *ToSlurmTresName("gpu"));
  EXPECT_EQ("gres/gpu:a100", *ToSlurmTresName("gpu/a100"));

  auto unknown = ToSlurmTres({{"mig/1g.10gb", 7}, {"cpu", 1}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(core::Code::kInvalidArgument, unknown.error().code);
  EXPECT_NE(std::string::npos,
            unknown.error().message.find("valid: cpu, memory, nodes, gpu, gpu/<model>"))
      << unknown.error().message;

  std::vector<std::string> skipped;
  auto partial = ToSlurmTres({{"mig/1g.10gb", 7}, {"storage", 100}, {"cpu", 1}}, &skipped);
  ASSERT_TRUE(partial);
  EXPECT_EQ((TresMap{{"cpu", 1}}), *partial);
  EXPECT_EQ((std::vector<std::string>{"mig/1g.10gb", "storage"}), skipped);

  EXPECT_FALSE(ToSlurmTres({{"cpu", -1}}));
  EXPECT_FALSE(ToSlurmTres({{"gpu/H100,cpu=9", 1}}, &skipped));  // never smuggled into a list
  EXPECT_FALSE(ToSlurmTres({{"gpu/", 1}}));
}

TEST(SlurmTres, SlurmNamesToGantry) {
  std::vector<std::string> unmapped;
  auto g = FromSlurmTres(
      *ParseTres("billing=2,cpu=2,gres/gpu:h100=1,gres/gpu=1,mem=1G,node=1,energy=5"), &unmapped);
  EXPECT_EQ((std::map<std::string, int64_t>{
                {"cpu", 2}, {"gpu/h100", 1}, {"gpu", 1}, {"memory", kGiB}, {"nodes", 1}}),
            g);
  EXPECT_EQ((std::vector<std::string>{"billing", "energy"}), unmapped);
}

}  // namespace
}  // namespace gantry::slurm
