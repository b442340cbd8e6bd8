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

TEST(SctpIData, WireLayoutOfFirstAndLaterFragments) {
  // RFC 8260 2.1: type 64, the DATA flags, TSN, stream, 16 reserved bits, MID, then the PPID
  // in the first fragment (B set) and the FSN in the others.
  const Buffer payload = Buffer::from_string("abc");
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 7}, 1200);
  IDataChunk first{0x01020304, 9, 0xA0B0C0D0, 51, true, false, true, false, payload};
  ASSERT_TRUE(first.write_to(b));
  IDataChunk later{0x01020305, 9, 0xA0B0C0D0, 1, false, true, true, true, payload};
  ASSERT_TRUE(later.write_to(b));
  b.finish();
  const BytesView chunks = BytesView(out).subspan(kCommonHeaderSize);
  EXPECT_EQ(to_hex(chunks.first(24)),
            "40060017"
            "01020304"
            "00090000"
            "a0b0c0d0"
            "00000033"
            "61626300");
  EXPECT_EQ(to_hex(chunks.subspan(24, 23)),
            "400d0017"
            "01020305"
            "00090000"
            "a0b0c0d0"
            "00000001"
            "616263");
  auto packet = parse_packet(out);
  ASSERT_TRUE(packet);
  ASSERT_EQ(packet->chunks.size(), 2u);
  auto f = IDataChunk::parse(packet->chunks[0]);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->tsn, 0x01020304u);
  EXPECT_EQ(f->stream_id, 9);
  EXPECT_EQ(f->message_id, 0xA0B0C0D0u);
  EXPECT_EQ(f->ppid_or_fsn, 51u);
  EXPECT_EQ(f->fsn(), 0u);
  EXPECT_TRUE(f->beginning && !f->end && f->unordered && !f->immediate);
  EXPECT_EQ(as_string(f->payload), "abc");
  auto l = IDataChunk::parse(packet->chunks[1]);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->fsn(), 1u);
  EXPECT_TRUE(!l->beginning && l->end && l->unordered && l->immediate);
  EXPECT_EQ(l->flags(), later.flags());
  // The reserved field is ignored on receipt.
  Buffer reserved(packet->chunks[0].value);
  reserved[6] = 0xFF;
  reserved[7] = 0xFF;
  auto r = IDataChunk::parse({chunk_type::kIData, packet->chunks[0].flags, reserved});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream_id, 9);
  EXPECT_EQ(r->message_id, 0xA0B0C0D0u);
}

TEST(SctpIData, MalformedChunksAreErrors) {
  const std::uint8_t header_only[16] = {};
  EXPECT_FALSE(IDataChunk::parse({chunk_type::kIData, 3, header_only}));  // no user data
  const std::uint8_t short_header[15] = {};
  EXPECT_FALSE(IDataChunk::parse({chunk_type::kIData, 3, short_header}));
  const std::uint8_t one_byte[17] = {};
  EXPECT_TRUE(IDataChunk::parse({chunk_type::kIData, 3, one_byte}));
  EXPECT_FALSE(IDataChunk::parse({chunk_type::kData, 3, one_byte}));  // wrong type
  EXPECT_FALSE(DataChunk::parse({chunk_type::kIData, 3, one_byte}));
}

TEST(SctpIForwardTsn, WireLayoutAndMalformedInputs) {
  // RFC 8260 2.3.1: type 194, new cumulative TSN, then 8-byte entries: stream, 15 reserved
  // bits and the U bit, MID.
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 7}, 1200);
  ForwardTsnChunk f{0x11223344, {{3, true, 0x01020304}, {0xFFFF, false, 0xFFFFFFFF}}};
  ASSERT_TRUE(f.write_to(b, true));
  b.finish();
  EXPECT_EQ(to_hex(BytesView(out).subspan(kCommonHeaderSize)),
            "c200001811223344"
            "0003000101020304"
            "ffff0000ffffffff");
  auto packet = parse_packet(out);
  ASSERT_TRUE(packet);
  auto parsed = ForwardTsnChunk::parse(packet->chunks[0], true);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->new_cumulative_tsn, 0x11223344u);
  EXPECT_EQ(parsed->skipped, f.skipped);
  // The codecs do not mix: a FORWARD-TSN is not an I-FORWARD-TSN.
  EXPECT_FALSE(ForwardTsnChunk::parse(packet->chunks[0], false));
  // Reserved bits are ignored; only the lowest bit is U.
  Buffer reserved(packet->chunks[0].value);
  reserved[6] = 0xFF;
  reserved[7] = 0xFE;
  auto r = ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, reserved}, true);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->skipped[0].unordered);
  EXPECT_EQ(r->skipped[0].sequence, 0x01020304u);
  // Torn entries, a missing cumulative TSN.
  const std::uint8_t torn[8] = {0, 0, 0, 1, 0, 1, 0, 1};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, torn}, true));
  const std::uint8_t ten[10] = {};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, ten}, true));
  const std::uint8_t three[3] = {};
  EXPECT_FALSE(ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, three}, true));
  const std::uint8_t bare[4] = {0, 0, 0, 5};
  auto empty = ForwardTsnChunk::parse({chunk_type::kIForwardTsn, 0, bare}, true);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->skipped.empty());
}

TEST(SctpZeroChecksum, AcceptableParameterRoundTrip) {
  // RFC 9653 4: type 0x8001, length 8, the EDMID.
  Buffer params;
  append_zero_checksum_acceptable(params, kEdmidSctpOverDtls);
  EXPECT_EQ(to_hex(params), "8001000800000001");
  auto parsed = parse_parameters(params);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parse_zero_checksum_acceptable((*parsed)[0]), std::optional<std::uint32_t>(1));
  const std::uint8_t other[4] = {0, 0, 1, 0};
  EXPECT_EQ(parse_zero_checksum_acceptable({param_type::kZeroChecksumAcceptable, other}),
            std::optional<std::uint32_t>(256));
  // Wrong length or type: not a usable parameter.
  const std::uint8_t three[3] = {0, 0, 1};
  EXPECT_FALSE(parse_zero_checksum_acceptable({param_type::kZeroChecksumAcceptable, three}));
  const std::uint8_t eight[8] = {0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_FALSE(parse_zero_checksum_acceptable({param_type::kZeroChecksumAcceptable, eight}));
  EXPECT_FALSE(parse_zero_checksum_acceptable({param_type::kSupportedExtensions, other}));
}

TEST(SctpZeroChecksum, AZeroChecksumIsNeverMistakenForAWrongOne) {
  Buffer out;
  PacketBuilder b(out, {5000, 5000, 1}, 1200);
  ASSERT_TRUE(b.add_chunk(chunk_type::kHeartbeat, 0, Buffer::from_string("info")));
  b.finish(true);
  EXPECT_EQ(load_be32(out.data() + 8), 0u);
  ASSERT_TRUE(parse_packet(out, ChecksumMode::kAcceptZero));
  // With zero accepted, any other wrong checksum is still refused.
  Buffer wrong = out;
  wrong[8] = 1;
  EXPECT_EQ(parse_packet(wrong, ChecksumMode::kAcceptZero).error(), SctpParseError::kBadChecksum);
  EXPECT_EQ(parse_packet(out, ChecksumMode::kVerify).error(), SctpParseError::kBadChecksum);
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
