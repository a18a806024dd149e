// A temporary directory for one test, removed with everything in it.
#ifndef QWENC_TEST_TESTDIR_H
#define QWENC_TEST_TESTDIR_H

#include <filesystem>
#include <fstream>
#include <string>

namespace qwenc::test {

class TestDir {
public:
  TestDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "qwenc-test-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TestDir() { std::filesystem::remove_all(path_); }
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  void write(const std::string &name, const std::string &text) const {
    std::ofstream(file(name), std::ios::binary) << text;
  }

private:
  std::string path_;
};

} // namespace qwenc::test
#endif
