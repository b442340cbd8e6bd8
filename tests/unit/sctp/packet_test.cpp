#include "sctp/packet.hpp"

#include <gtest/gtest.h>

#include "base/byte_reader.hpp"
#include "base/hex.hpp"

namespace rtcpp::sctp {
namespace {

TEST(SctpPacket, ChecksumGoesOnTheWireLeastSignificantByteFirst) {
  // RFC 9260 appendix B. Ports 5000/5000, tag 0, no chunks: CRC32c 0xe100a906, which other
  // stacks (Pion's packet tests, for one) carry as the bytes 06 a9 00 e1.
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 0}, 1200);
  b.finish();
  EXPECT_EQ(to_hex(out), "138813880000000006a900e1");
  // With a chunk, the parser accepts what the builder wrote and rejects any flipped bit.
  Buffer packet;
  PacketBuilder c(packet, {5000, 5000, 0xeed2220b}, 1200);
  ASSERT_TRUE(c.add_chunk(chunk_type::kHeartbeat, 0, Buffer::from_string("info")));
  c.finish();
  ASSERT_TRUE(parse_packet(packet));
  for (std::size_t bit = 0; bit < packet.size() * 8; bit += 7) {
    Buffer bad = packet;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_EQ(parse_packet(bad).error(), SctpParseError::kBadChecksum) << bit;
  }
}

TEST(SctpPacket, BuildParseRoundTripWithEveryChunkKind) {
  Buffer out;
  PacketBuilder b(out, {5000, 5001, 0x01020304}, 1200);
  const Buffer payload = Buffer::from_string("hello sctp");
  DataChunk data;
  data.tsn = 100;
  data.stream_id = 3;
  data.stream_sequence = 7;
  data.ppid = 51;
  data.unordered = true;
  data.payload = payload;
  ASSERT_TRUE(data.write_to(b));
  IDataChunk idata;
  idata.tsn = 101;
  idata.stream_id = 4;
  idata.message_id = 0x10000;
  idata.ppid_or_fsn = 53;
  idata.beginning = false;
  idata.payload = payload;
  ASSERT_TRUE(idata.write_to(b));
  SackChunk sack;
  sack.cumulative_tsn_ack = 99;
  sack.a_rwnd = 131072;
  sack.gap_blocks = {{2, 3}, {5, 5}};
  sack.duplicate_tsns = {97};
  ASSERT_TRUE(sack.write_to(b));
  ForwardTsnChunk fwd{200, {{1, false, 9}, {2, false, 65535}}};
  ASSERT_TRUE(fwd.write_to(b, false));
  ForwardTsnChunk ifwd{201, {{1, true, 0x12345678}}};
  ASSERT_TRUE(ifwd.write_to(b, true));
  InitChunk init;
  init.initiate_tag = 0xAABBCCDD;
  init.a_rwnd = 1 << 20;
  init.outbound_streams = 65535;
  init.inbound_streams = 65535;
  init.initial_tsn = 42;
  const std::uint8_t zero_checksum_value[4] = {0, 0, 0, 1};
  init.parameters.push_back({param_type::kZeroChecksumAcceptable, zero_checksum_value});
  init.parameters.push_back({param_type::kForwardTsnSupported, {}});
  ASSERT_TRUE(init.write_to(b, chunk_type::kInit));
  ASSERT_TRUE(b.add_chunk(chunk_type::kCookieAck, 0, BytesView{}));
  b.finish();

  auto packet = parse_packet(out);
  ASSERT_TRUE(packet) << to_string(packet.error());
  EXPECT_EQ(packet->header, (CommonHeader{5000, 5001, 0x01020304}));
  ASSERT_EQ(packet->chunks.size(), 7u);

  auto d = DataChunk::parse(packet->chunks[0]);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tsn, 100u);
  EXPECT_EQ(d->stream_id, 3);
  EXPECT_EQ(d->stream_sequence, 7);
  EXPECT_EQ(d->ppid, 51u);
  EXPECT_TRUE(d->unordered && d->beginning && d->end && !d->immediate);
  EXPECT_EQ(as_string(d->payload), "hello sctp");

  auto id = IDataChunk::parse(packet->chunks[1]);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->message_id, 0x10000u);
  EXPECT_EQ(id->ppid_or_fsn, 53u);
  EXPECT_FALSE(id->beginning);
  EXPECT_TRUE(id->end);

  auto s = SackChunk::parse(packet->chunks[2]);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cumulative_tsn_ack, 99u);
  EXPECT_EQ(s->gap_blocks, sack.gap_blocks);
  EXPECT_EQ(s->duplicate_tsns, sack.duplicate_tsns);

  auto f = ForwardTsnChunk::parse(packet->chunks[3], false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->skipped, fwd.skipped);
  auto fi = ForwardTsnChunk::parse(packet->chunks[4], true);
  ASSERT_TRUE(fi);
  EXPECT_EQ(fi->new_cumulative_tsn, 201u);
  EXPECT_EQ(fi->skipped, ifwd.skipped);

  auto in = InitChunk::parse(packet->chunks[5]);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->initiate_tag, 0xAABBCCDDu);
  EXPECT_EQ(in->inbound_streams, 65535);
  ASSERT_NE(in->find(param_type::kZeroChecksumAcceptable), nullptr);
  EXPECT_EQ(load_be32(in->find(param_type::kZeroChecksumAcceptable)->value.data()), 1u);
  EXPECT_NE(in->find(param_type::kForwardTsnSupported), nullptr);
  EXPECT_EQ(packet->chunks[6].type, chunk_type::kCookieAck);
}

TEST(SctpPacket, ZeroChecksumOnlyWhenAccepted) {
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 1}, 1200);
  ASSERT_TRUE(b.add_chunk(chunk_type::kCookieAck, 0, BytesView{}));
  b.finish(/*zero_checksum=*/true);
  EXPECT_EQ(parse_packet(out, ChecksumMode::kVerify).error(), SctpParseError::kBadChecksum);
  EXPECT_TRUE(parse_packet(out, ChecksumMode::kAcceptZero));
  b.finish(false);
  EXPECT_TRUE(parse_packet(out, ChecksumMode::kAcceptZero));
  EXPECT_TRUE(parse_packet(out, ChecksumMode::kVerify));
}

TEST(SctpPacket, BuilderRespectsMtu) {
  Buffer out;
  PacketBuilder b(out, {}, 100);
  std::vector<std::uint8_t> big(100, 0xAB);
  EXPECT_FALSE(b.add_chunk(chunk_type::kHeartbeat, 0, big));
  EXPECT_TRUE(b.empty());
  std::vector<std::uint8_t> fits(100 - kCommonHeaderSize - kChunkHeaderSize, 0xAB);
  EXPECT_TRUE(b.add_chunk(chunk_type::kHeartbeat, 0, fits));
  EXPECT_EQ(b.remaining(), 0u);
  EXPECT_EQ(out.size(), 100u);
}

TEST(SctpPacket, RejectsMalformed) {
  Buffer out;
  PacketBuilder b(out, {}, 1200);
  ASSERT_TRUE(b.add_chunk(chunk_type::kHeartbeat, 0, Buffer::from_string("abcde")));
  b.finish();
  // Chunk length below 4.
  Buffer short_len = out;
  store_be16(short_len.data() + kCommonHeaderSize + 2, 3);
  EXPECT_EQ(parse_packet(short_len, ChecksumMode::kSkip).error(), SctpParseError::kBadChunkLength);
  // Chunk length beyond the packet.
  Buffer long_len = out;
  store_be16(long_len.data() + kCommonHeaderSize + 2, 200);
  EXPECT_EQ(parse_packet(long_len, ChecksumMode::kSkip).error(), SctpParseError::kBadChunkLength);
  EXPECT_EQ(parse_packet(BytesView(out).first(15), ChecksumMode::kSkip).error(),
            SctpParseError::kTooShort);
  // The last chunk's padding may be missing.
  EXPECT_TRUE(parse_packet(BytesView(out).first(out.size() - 3), ChecksumMode::kSkip));
  // Too many chunks.
  Buffer many;
  PacketBuilder mb(many, {}, 1 << 16);
  for (std::size_t i = 0; i <= kMaxChunksPerPacket; ++i)
    mb.add_chunk(chunk_type::kCookieAck, 0, BytesView{});
  mb.finish();
  EXPECT_EQ(parse_packet(many).error(), SctpParseError::kTooManyChunks);
}

TEST(SctpChunks, RejectMalformedValues) {
  const std::uint8_t twelve[12] = {};
  EXPECT_FALSE(DataChunk::parse({chunk_type::kData, 3, twelve}));  // no user data
  EXPECT_FALSE(DataChunk::parse({chunk_type::kSack, 3, twelve}));  // wrong type
  const std::uint8_t init_zero_tag[16] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1};
  EXPECT_FALSE(InitChunk::parse({chunk_type::kInit, 0, init_zero_tag}));
  // SACK whose counts disagree with its length.
  const std::uint8_t sack_bad[12] = {0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0};
  EXPECT_FALSE(SackChunk::parse({chunk_type::kSack, 0, sack_bad}));
  // SACK gap block that ends before it starts.
  const std::uint8_t sack_gap[16] = {0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 5, 0, 4};
  EXPECT_FALSE(SackChunk::parse({chunk_type::kSack, 0, sack_gap}));
  const std::uint8_t fwd_odd[6] = {0, 0, 0, 1, 0, 2};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kForwardTsn, 0, fwd_odd}, false));
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, fwd_odd}, true));
  const std::uint8_t bad_params[6] = {0, 7, 0, 9, 1, 2};  // parameter longer than its chunk
  EXPECT_FALSE(parse_parameters(bad_params));
}

TEST(SctpReconfig, ParametersRoundTrip) {
  Buffer params;
  OutgoingResetRequest req{7, 6, 1000, {1, 3, 5}};
  req.append_to(params);
  ReconfigResponse resp{6, ReconfigResponse::Result::kInProgress};
  resp.append_to(params);
  auto parsed = parse_parameters(params);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  auto r = OutgoingResetRequest::parse((*parsed)[0]);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->request_sequence, 7u);
  EXPECT_EQ(r->sender_last_tsn, 1000u);
  EXPECT_EQ(r->streams, (std::vector<std::uint16_t>{1, 3, 5}));
  auto p = ReconfigResponse::parse((*parsed)[1]);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->result, ReconfigResponse::Result::kInProgress);
  const std::uint8_t bad_result[8] = {0, 0, 0, 1, 0, 0, 0, 9};
  EXPECT_FALSE(ReconfigResponse::parse({param_type::kReconfigurationResponse, bad_result}));
}

TEST(SctpReconfig, ChunksInAPacketRoundTrip) {
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 9}, 1200);
  ForwardTsnChunk fwd{0xFFFFFFF0, {{0, false, 3}, {7, false, 0xFFFF}}};
  ASSERT_TRUE(fwd.write_to(b, false));
  Buffer params;
  OutgoingResetRequest all{1, 0xFFFFFFFF, 77, {}};  // no list: every stream
  all.append_to(params);
  ReconfigResponse{9, ReconfigResponse::Result::kSuccessPerformed}.append_to(params);
  ASSERT_TRUE(b.add_chunk(chunk_type::kReConfig, 0, params));
  b.finish();
  auto packet = parse_packet(out);
  ASSERT_TRUE(packet);
  ASSERT_EQ(packet->chunks.size(), 2u);
  auto f = ForwardTsnChunk::parse(packet->chunks[0], false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->new_cumulative_tsn, 0xFFFFFFF0u);
  EXPECT_EQ(f->skipped, fwd.skipped);
  ASSERT_EQ(packet->chunks[1].type, chunk_type::kReConfig);
  auto parsed = parse_parameters(packet->chunks[1].value);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  auto r = OutgoingResetRequest::parse((*parsed)[0]);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->response_sequence, 0xFFFFFFFFu);
  EXPECT_EQ(r->sender_last_tsn, 77u);
  EXPECT_TRUE(r->streams.empty());
  auto p = ReconfigResponse::parse((*parsed)[1]);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->response_sequence, 9u);
  EXPECT_EQ(p->result, ReconfigResponse::Result::kSuccessPerformed);
}

TEST(SctpReconfig, MalformedParametersAreErrors) {
  // Request shorter than its fixed part, odd stream list, wrong type.
  const std::uint8_t short_req[8] = {};
  EXPECT_FALSE(OutgoingResetRequest::parse({param_type::kOutgoingSsnResetRequest, short_req}));
  const std::uint8_t odd_req[13] = {};
  EXPECT_FALSE(OutgoingResetRequest::parse({param_type::kOutgoingSsnResetRequest, odd_req}));
  const std::uint8_t ok_req[14] = {};
  EXPECT_TRUE(OutgoingResetRequest::parse({param_type::kOutgoingSsnResetRequest, ok_req}));
  EXPECT_FALSE(OutgoingResetRequest::parse({param_type::kIncomingSsnResetRequest, ok_req}));
  // A stream list beyond the limit.
  std::vector<std::uint8_t> huge(12 + 2 * (kMaxResetStreams + 1), 0);
  EXPECT_FALSE(OutgoingResetRequest::parse({param_type::kOutgoingSsnResetRequest, huge}));
  huge.resize(12 + 2 * kMaxResetStreams);
  auto at_limit = OutgoingResetRequest::parse({param_type::kOutgoingSsnResetRequest, huge});
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->streams.size(), kMaxResetStreams);
  // Responses: 8 or 16 bytes only, known result codes only.
  const std::uint8_t resp12[12] = {};
  EXPECT_FALSE(ReconfigResponse::parse({param_type::kReconfigurationResponse, resp12}));
  const std::uint8_t resp16[16] = {};
  EXPECT_TRUE(ReconfigResponse::parse({param_type::kReconfigurationResponse, resp16}));
  EXPECT_FALSE(ReconfigResponse::parse({param_type::kOutgoingSsnResetRequest, resp16}));
  // FORWARD-TSN without its cumulative TSN, or with a torn stream entry.
  const std::uint8_t three[3] = {};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kForwardTsn, 0, three}, false));
  const std::uint8_t torn[10] = {};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kForwardTsn, 0, torn}, false));
  const std::uint8_t bare[4] = {0, 0, 0, 5};
  auto f = ForwardTsnChunk::parse({chunk_type::kForwardTsn, 0, bare}, false);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->skipped.empty());
  // A RE-CONFIG parameter run that overruns its chunk.
  const std::uint8_t overrun[8] = {0, 16, 0, 12, 0, 0, 0, 1};
  EXPECT_FALSE(parse_parameters(overrun));
}

}  // namespace
}  // namespace rtcpp::sctp
