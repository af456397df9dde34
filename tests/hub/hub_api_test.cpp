// The hub's metadata, URLs and blob digests, without a network.
#include <gtest/gtest.h>

#include "hub/blob_hash.h"
#include "hub/http_client.h"
#include "hub/hub_api.h"
#include "util/error.h"

namespace hearth::hub {
namespace {

const char* kInfo = R"({
  "id": "org/name", "sha": "0123456789abcdef0123456789abcdef01234567",
  "siblings": [
    {"rfilename": "config.json", "size": 6, "blobId": "ce013625030ba8dba906f756967f9e9ca394464a"},
    {"rfilename": "model.safetensors", "size": 3, "blobId": "1111111111111111111111111111111111111111",
     "lfs": {"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "size": 3, "pointerSize": 134}}
  ]})";

TEST(HubApi, ParsesTheCommitAndEachFilesSizeAndDigest) {
  const RemoteSnapshot s = parse_model_info(kInfo, RepoRef{"org/name", ""});
  EXPECT_EQ(s.commit, "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(s.revision, "main");
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_FALSE(s.files[0].lfs());
  EXPECT_EQ(s.files[0].etag(), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_TRUE(s.files[1].lfs());
  EXPECT_EQ(s.files[1].etag(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(s.total_bytes(), 9u);
}

TEST(HubApi, RefusesMetadataThatWouldLeaveTheSnapshotOrCannotBeChecked) {
  const RepoRef ref{"org/name", ""};
  const std::string head = R"({"sha": "0123456789abcdef0123456789abcdef01234567", "siblings": [)";
  for (const char* bad : {R"({"rfilename": "../escape", "size": 1, "blobId": "ce013625030ba8dba906f756967f9e9ca394464a"})",
                          R"({"rfilename": "/abs", "size": 1, "blobId": "ce013625030ba8dba906f756967f9e9ca394464a"})",
                          R"({"rfilename": "a//b", "size": 1, "blobId": "ce013625030ba8dba906f756967f9e9ca394464a"})",
                          R"({"rfilename": "nosize", "blobId": "ce013625030ba8dba906f756967f9e9ca394464a"})",
                          R"({"rfilename": "noid", "size": 1})",
                          R"({"rfilename": "badlfs", "size": 1, "lfs": {"sha256": "xyz"}})"}) {
    EXPECT_THROW(parse_model_info(head + bad + "]}", ref), Error) << bad;
  }
  EXPECT_THROW(parse_model_info("not json", ref), Error);
  EXPECT_THROW(parse_model_info(R"({"siblings": []})", ref), Error);
}

TEST(HubApi, UrlsFollowHuggingFaceHubs) {
  EXPECT_EQ(model_info_url("https://huggingface.co", RepoRef{"org/name", ""}),
            "https://huggingface.co/api/models/org/name/revision/main?blobs=true");
  EXPECT_EQ(model_info_url("http://h:1", RepoRef{"org/name", "refs/pr/1"}),
            "http://h:1/api/models/org/name/revision/refs%2Fpr%2F1?blobs=true");
  EXPECT_EQ(file_url("http://h:1", "org/name", "abc", "sub dir/x.json"), "http://h:1/org/name/resolve/abc/sub%20dir/x.json");
}

TEST(HubApi, ErrorsNameWhatIsMissing) {
  const RepoRef ref{"org/name", "dev"};
  EXPECT_NE(describe_hub_error(ref, 404, {{"x-error-code", "RevisionNotFound"}}, "").find("has no revision 'dev'"), std::string::npos);
  EXPECT_NE(describe_hub_error(ref, 404, {{"x-error-code", "RepoNotFound"}}, "").find("not found on the hub"), std::string::npos);
  EXPECT_NE(describe_hub_error(ref, 401, {}, R"({"error": "nope"})").find("HF_TOKEN"), std::string::npos);
  EXPECT_NE(describe_hub_error(ref, 401, {}, R"({"error": "nope"})").find("(hub: nope)"), std::string::npos);
}

TEST(BlobHasher, GitBlobSha1AndSha256MatchGitAndTheStandard) {
  BlobHasher git(BlobDigest::git_sha1, 6);
  git.update("hel");
  git.update("lo\n");
  EXPECT_EQ(git.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");  // git hash-object of "hello\n"
  BlobHasher sha(BlobDigest::sha256, 3);
  sha.update("xx");
  sha.reset();
  sha.update("abc");
  EXPECT_EQ(sha.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HttpClient, SplitsUrlsIntoOriginAndTarget) {
  EXPECT_EQ(split_url("https://cdn.example:8443/a/b?c=1"), std::make_pair(std::string("https://cdn.example:8443"), std::string("/a/b?c=1")));
  EXPECT_EQ(split_url("http://h"), std::make_pair(std::string("http://h"), std::string("/")));
  EXPECT_EQ(split_url("http://h?x"), std::make_pair(std::string("http://h"), std::string("/?x")));
  EXPECT_EQ(split_url("/relative").first, "");
}

}  // namespace
}  // namespace hearth::hub
