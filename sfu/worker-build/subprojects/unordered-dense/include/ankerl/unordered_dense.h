/*
 * Stand-in for martinus/unordered_dense (ankerl::unordered_dense), which is
 * not packaged in Debian bookworm.
 *
 * Why this exists: mediasoup 3.27.1's worker uses only
 * ankerl::unordered_dense::map, ::set and ::hash, through the ordinary
 * std::unordered_map/set interface (find, emplace, try_emplace, erase,
 * contains, iteration, ...). They are mapped onto the standard containers,
 * which offer that interface with equal or stronger iterator/reference
 * stability guarantees, so code written for unordered_dense stays correct.
 */
#ifndef MS_ANKERL_UNORDERED_DENSE_STD_FACADE_H
#define MS_ANKERL_UNORDERED_DENSE_STD_FACADE_H

#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace ankerl
{
	namespace unordered_dense
	{
		// ankerl::unordered_dense::hash<T>{}(value): std::hash behaviour.
		template<class T, class Enable = void>
		struct hash : std::hash<T>
		{
		};

		template<
		  class Key,
		  class T,
		  class Hash     = ankerl::unordered_dense::hash<Key>,
		  class KeyEqual = std::equal_to<Key>>
		using map = std::unordered_map<Key, T, Hash, KeyEqual>;

		template<
		  class Key,
		  class Hash     = ankerl::unordered_dense::hash<Key>,
		  class KeyEqual = std::equal_to<Key>>
		using set = std::unordered_set<Key, Hash, KeyEqual>;
	} // namespace unordered_dense
} // namespace ankerl

#endif
