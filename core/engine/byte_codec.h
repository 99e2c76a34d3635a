#pragma once
//! \file Small binary records (checkpoint files, MPI messages, partial files): trivially
//! copyable values, and vectors of them as a 64-bit count followed by the elements, in host
//! byte order. Reads are bounds-checked: a short record throws instead of reading past it.

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace tvk {

//! Appends values to a byte string.
class ByteWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  template <typename T>
  void put_vector(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<std::uint64_t>(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  //! A byte string of its own record, length first.
  void put_record(const std::string& record) {
    put<std::uint64_t>(record.size());
    bytes_ += record;
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

//! Reads values back in the order they were put; `what` names the record in errors.
class ByteReader {
 public:
  ByteReader(const std::string& bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof value);
    offset_ += sizeof value;
    return value;
  }
  template <typename T>
  void get_vector(std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto count = get<std::uint64_t>();
    if (count > (bytes_.size() - offset_) / sizeof(T)) fail();
    values.resize(count);
    // An empty vector's data() may be null, and memcpy from or to null is undefined even for 0.
    if (count != 0) std::memcpy(values.data(), bytes_.data() + offset_, count * sizeof(T));
    offset_ += count * sizeof(T);
  }
  template <typename T>
  std::vector<T> get_vector() {
    std::vector<T> values;
    get_vector(values);
    return values;
  }
  //! A record put with put_record.
  std::string get_record() {
    const auto size = get<std::uint64_t>();
    need(size);
    std::string record = bytes_.substr(offset_, size);
    offset_ += size;
    return record;
  }
  //! Every byte has been read.
  bool done() const { return offset_ == bytes_.size(); }

 private:
  void need(std::size_t size) const {
    if (size > bytes_.size() - offset_) fail();
  }
  [[noreturn]] void fail() const { throw std::runtime_error("truncated " + what_); }

  const std::string& bytes_;
  std::string what_;
  std::size_t offset_ = 0;
};

}  // namespace tvk
