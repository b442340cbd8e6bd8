// SHA-256 over a stream of bytes (OpenSSL), for transfer checks and traces.
#pragma once

#include <string>

#include "base/bytes.hpp"

namespace rtcpp {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(BytesView bytes);
  // The digest of everything so far as lowercase hex; the hash can keep going afterwards.
  std::string hex() const;

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace rtcpp
