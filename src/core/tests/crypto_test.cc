#include "core/crypto.h"

#include <gtest/gtest.h>

namespace gantry::core {
namespace {

TEST(Sha256, KnownVector) {
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256Hex("abc"));
  Sha256Hasher h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(Sha256("abc"), h.Finish());
}

TEST(Encoding, HexAndBase64UrlRoundTrip) {
  std::string bytes = RandomBytes(100);
  EXPECT_EQ(bytes, *HexDecode(HexEncode(bytes)));
  for (size_t n = 0; n < 10; ++n) {
    std::string b = RandomBytes(n);
    EXPECT_EQ(b, *Base64UrlDecode(Base64UrlEncode(b)));
  }
  EXPECT_FALSE(HexDecode("zz"));
  EXPECT_FALSE(Base64UrlDecode("a$b"));
}

TEST(Ed25519, SignsAndRejectsTampering) {
  auto kp = Ed25519Generate();
  auto sig = Ed25519Sign(kp.private_key, "checkpoint 42");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(Ed25519Verify(kp.public_key, "checkpoint 42", *sig));
  EXPECT_FALSE(Ed25519Verify(kp.public_key, "checkpoint 43", *sig));
  EXPECT_FALSE(Ed25519Verify(Ed25519Generate().public_key, "checkpoint 42", *sig));
}

TEST(AesGcm, RoundTripAndTamperDetection) {
  std::string key = RandomBytes(32);
  auto sealed = AesGcmEncrypt(key, "bmc-password", "bmc:7");
  ASSERT_TRUE(sealed);
  EXPECT_EQ("bmc-password", *AesGcmDecrypt(key, *sealed, "bmc:7"));
  EXPECT_FALSE(AesGcmDecrypt(key, *sealed, "bmc:8"));
  std::string tampered = *sealed;
  tampered[14] ^= 1;
  EXPECT_FALSE(AesGcmDecrypt(key, tampered, "bmc:7"));
  EXPECT_FALSE(AesGcmDecrypt(RandomBytes(32), *sealed, "bmc:7"));
}

}  // namespace
}  // namespace gantry::core
