# The media libraries rtcpp links (Debian's -dev packages; scripts/install-deps.sh installs
# them): each found by a header and a library name and made an IMPORTED target
# rtcpp_ext::<name>. RTCPP_MEDIA_LINK_NAMES lists their plain names, which the installed
# package hands to consumers of a static librtcpp.

function(rtcpp_find_media_library name header library)
  find_path(RTCPP_${name}_INCLUDE_DIR ${header})
  find_library(RTCPP_${name}_LIBRARY ${library})
  if(NOT RTCPP_${name}_INCLUDE_DIR OR NOT RTCPP_${name}_LIBRARY)
    message(FATAL_ERROR "rtcpp needs lib${library} (${header} not found): run scripts/install-deps.sh")
  endif()
  add_library(rtcpp_ext::${name} UNKNOWN IMPORTED)
  set_target_properties(rtcpp_ext::${name} PROPERTIES
    IMPORTED_LOCATION ${RTCPP_${name}_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${RTCPP_${name}_INCLUDE_DIR})
  set_property(GLOBAL APPEND PROPERTY RTCPP_MEDIA_LINK_NAMES ${library})
endfunction()

rtcpp_find_media_library(opus opus/opus.h opus)
rtcpp_find_media_library(vpx vpx/vpx_encoder.h vpx)
rtcpp_find_media_library(aom aom/aom_encoder.h aom)
rtcpp_find_media_library(dav1d dav1d/dav1d.h dav1d)
rtcpp_find_media_library(yuv libyuv.h yuv)
rtcpp_find_media_library(speexdsp speex/speex_resampler.h speexdsp)
if(RTCPP_WITH_OPENH264)
  rtcpp_find_media_library(openh264 wels/codec_api.h openh264)
endif()
get_property(RTCPP_MEDIA_LINK_NAMES GLOBAL PROPERTY RTCPP_MEDIA_LINK_NAMES)
