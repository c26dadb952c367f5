#!/usr/bin/env python3
"""Writes a JSON document of COUNT small records (~170 bytes each) for the memory bound of
json-array and --pointer documents (issue 11 point 7).

usage: small_records.py OUT COUNT array|pointer|ndjson
  array:   [ {"id":1,...}, ... ]            (pgingest load --format json-array)
  pointer: {"meta":{...},"items":[...],"tail":{...}}   (pgingest load --pointer /items)
  ndjson:  one record per line, the same records (the baseline)
"""
import sys


def record(rid):
    return ('{"id":%d,"name":"r\\u00e9cord %d","tags":["a","b"],"pad":"%s"}'
            % (rid, rid, 'x' * 100))


def main():
    out, count, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(out, 'w', encoding='ascii') as f:
        if shape == 'ndjson':
            for start in range(1, count + 1, 100000):
                end = min(start + 100000, count + 1)
                f.write(''.join(record(i) + '\n' for i in range(start, end)))
            return
        f.write('{"meta":{"n":[1,2,{"k":"v"}]},"items":[\n' if shape == 'pointer' else '[\n')
        for start in range(1, count + 1, 100000):
            end = min(start + 100000, count + 1)
            f.write(''.join(record(i) + (',\n' if i < count else '\n')
                            for i in range(start, end)))
        f.write('],"tail":{"done":true}}\n' if shape == 'pointer' else ']\n')


if __name__ == '__main__':
    main()
