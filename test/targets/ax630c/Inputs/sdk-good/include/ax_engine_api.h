/* A stand-in for an SDK's engine header, written for qwenc's tests from
 * docs/ax630c/CONTRACT.md (the structures' fields in order, the 128-byte
 * aarch64 padding) with the SDK's type and field names, which the layout
 * check (targets/ax630c/SdkCheck.cpp) names. Not the vendor's header. */
#pragma once
#include <stdint.h>

typedef struct {
  char *pName;
  int32_t *pShape;
  uint8_t nShapeSize;
  int32_t eLayout;
  int32_t eMemoryType;
  int32_t eDataType;
  void *pExtraMeta;
  uint32_t nSize;
  uint32_t nQuantizationValue;
  int32_t *pStride;
#if defined(__aarch64__) && !defined(TEST_SDK_UNPADDED)
  uint64_t u64Reserved[9];
#endif
} AX_ENGINE_IOMETA_T;

typedef struct {
  AX_ENGINE_IOMETA_T *pInputs;
  uint32_t nInputSize;
  AX_ENGINE_IOMETA_T *pOutputs;
  uint32_t nOutputSize;
  uint32_t nMaxBatchSize;
  int32_t bDynamicBatchSize;
#if defined(__aarch64__) && !defined(TEST_SDK_UNPADDED)
  uint64_t u64Reserved[11];
#endif
} AX_ENGINE_IO_INFO_T;

typedef struct {
  uint64_t phyAddr;
  void *pVirAddr;
  uint32_t nSize;
  int32_t *pStride;
  uint8_t nStrideSize;
#if defined(__aarch64__) && !defined(TEST_SDK_UNPADDED)
  uint64_t u64Reserved[11];
#endif
} AX_ENGINE_IO_BUFFER_T;

typedef struct {
  AX_ENGINE_IO_BUFFER_T *pInputs;
  uint32_t nInputSize;
  AX_ENGINE_IO_BUFFER_T *pOutputs;
  uint32_t nOutputSize;
  uint32_t nBatchSize;
  void *pIoSetting;
#if defined(__aarch64__) && !defined(TEST_SDK_UNPADDED)
  uint64_t u64Reserved[11];
#endif
} AX_ENGINE_IO_T;
