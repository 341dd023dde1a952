// The replay test of a fuzz target: feeds every file of its seed corpus to
// LLVMFuzzerTestOneInput once, with whatever compiler and sanitizers the build
// uses (GCC by default, ASan+UBSan under --config=asan_ubsan). So the inputs
// the fuzzers found interesting, and every crash they ever found (each is
// added to the corpus), are rerun by every `bazel test //...`.
//
// Usage: <target>_replay_test CORPUS_DIR   (the macro passes it, relative to
// the runfiles directory the test starts in).
#include <dirent.h>
#include <gtest/gtest.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string g_corpus_dir;

std::vector<std::string> CorpusFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* stream = opendir(dir.c_str());
  if (stream == nullptr) return files;
  while (const dirent* entry = readdir(stream)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") files.push_back(dir + "/" + name);
  }
  closedir(stream);
  std::sort(files.begin(), files.end());  // the same order on every file system
  return files;
}

TEST(Corpus, HasSeedInputs) {
  EXPECT_FALSE(CorpusFiles(g_corpus_dir).empty()) << "no corpus files in '" << g_corpus_dir << "'";
}

TEST(Corpus, EveryInputRunsWithoutViolatingAProperty) {
  for (const std::string& path : CorpusFiles(g_corpus_dir)) {
    std::ifstream file(path, std::ios::binary);
    ASSERT_TRUE(file) << "cannot read " << path;
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    // An exactly sized heap copy, so that ASan sees a read past the end.
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    // Named before running: a failed property aborts the process, and the
    // last name in the log is the input that did it.
    fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), input.size());
    EXPECT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0) << path;
  }
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_corpus_dir = argv[1];
  return RUN_ALL_TESTS();
}
