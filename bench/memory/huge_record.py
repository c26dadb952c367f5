#!/usr/bin/env python3
"""One huge JSON record for the memory bound of issue 11 point 7 (bench/RESULTS.md).

usage: huge_record.py OUT SIZE_MB nested|string|array ID
  nested: {"id":ID,"obj":{"k00000000":{...small members...},...}}
  string: {"id":ID,"s":"..."} one string with escapes
  array:  {"id":ID,"arr":[0,1,2,...]} dense one-digit numbers (the costliest DOM)
  floats: {"id":ID,"r":[0.0000000,0.0007919,...]} 7-digit fractions (an embedding's shape)
"""
import sys
def nested(target):
    parts=[]; n=0; i=0
    item='{"name":"%s","vals":[1,2.5,-3,"x\\u00e9y"],"flag":true,"nil":null,"sub":{"a":{"b":[{"c":"deep \\"q\\""}]}}}'
    while n < target:
        s='"k%08d":' % i + item % ("v%07d" % i)
        parts.append(s); n += len(s)+1; i+=1
    return '{' + ','.join(parts) + '}'
def string(target):
    chunk = 'abcdefghij\\"klmnop\\\\qrstuvwxyz\\n0123456789 \\u00e9\\ud83d\\ude00 '
    return '"' + chunk * (target // len(chunk)) + '"'
def array(target):
    body = ','.join(str(i % 10) for i in range(target // 2))
    return '[' + body + ']'
def floats(target):
    body = ','.join('0.%07d' % (i * 7919 % 10000000) for i in range(target // 10))
    return '[' + body + ']'
def record(shape, size, rid):
    if shape == 'nested':
        return '{"id":%d,"obj":%s}' % (rid, nested(size))
    if shape == 'string':
        return '{"id":%d,"s":%s}' % (rid, string(size))
    if shape == 'floats':
        return '{"id":%d,"r":%s}' % (rid, floats(size))
    if shape == 'array':
        return '{"id":%d,"arr":%s}' % (rid, array(size))
out, size, shape, rid = sys.argv[1], int(float(sys.argv[2])*1e6), sys.argv[3], int(sys.argv[4])
with open(out, 'w') as f:
    f.write(record(shape, size, rid))
